"""Every label the console shows, in English and Chinese.

One table, key → (English, 中文), so a missing translation is a test failure rather than a
half-translated screen. Labels may carry ``str.format`` fields (``{n}``); the same fields in both
languages. Binding descriptions are looked up as ``key.<binding id>``.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from inventory.textsafe import visible
from tickets.labels import console_labels
from tickets.models import EntryKind, Severity, TicketCategory, TicketSource
from tickets.sla import SlaStatus, TicketState

Lang = Literal["en", "zh"]
LANGS: Final[tuple[str, ...]] = get_args(Lang)

_LABELS: Final[dict[str, tuple[str, str]]] = {
    # -- the app and its screens
    "app.title": ("ixops console", "ixops 运维控制台"),
    "screen.login": ("Log in", "登录"),
    "screen.queue": ("Ticket queue", "工单队列"),
    "screen.ticket": ("Ticket", "工单"),
    "screen.new": ("New ticket", "新建工单"),
    "screen.overview": ("Overview", "总览"),
    "screen.help": ("Keys", "按键帮助"),
    "screen.exchange": ("Exchange", "交换中心"),
    "screen.inspections": ("Inspections", "巡检"),
    "screen.targets": ("Performance targets", "绩效目标"),
    "targets.evidence": ("Evidence", "证据"),
    "targets.col.n": ("#", "序号"),
    "targets.col.indicator": ("Indicator", "三级目标"),
    "targets.col.target": ("Target", "指标目标值"),
    "targets.col.actual": ("Actual", "实际完成值"),
    "targets.col.achieved": ("Achieved", "是否达成"),
    "targets.col.kind": ("Kind", "类型"),
    "targets.col.ref": ("Reference", "对象"),
    "targets.col.text": ("Evidence", "证据"),
    "targets.hidden": ("(not visible to you)", "（无权查看）"),
    "targets.yes": ("yes", "是"),
    "targets.no": ("no", "否"),
    "targets.unknown": ("—", "—"),
    "screen.walkthrough": ("Walkthrough", "巡检记录"),
    "screen.graph": ("Traffic", "流量图"),
    # -- login
    "login.user": ("User name", "用户名"),
    "login.password": ("Password", "密码"),
    "login.submit": ("Log in", "登录"),
    "login.checking": ("Checking…", "正在验证…"),
    "login.hint": (
        "Log in with your ixops account. Contacts see only their access unit's tickets.",
        "请使用 ixops 账号登录。接入单位联系人只能看到本单位的工单。",
    ),
    "login.refused": ("unknown user or wrong password", "用户名或密码错误"),
    "login.failed": ("Login failed: {reason}", "登录失败：{reason}"),
    "login.welcome": ("Logged in as {user} ({role})", "已登录：{user}（{role}）"),
    # -- roles
    "role.admin": ("admin", "管理员"),
    "role.engineer": ("engineer", "工程师"),
    "role.contact": ("contact", "联系人"),
    "role.viewer": ("viewer", "只读用户"),
    # -- SLA markers (always text, never colour alone) and their words
    "sla.ok": ("OK", "正常"),
    "sla.at_risk": ("RISK", "有风险"),
    "sla.breached": ("BREACH", "已超时"),
    "sla.paused": ("PAUSE", "暂停"),
    "sla.met": ("MET", "已响应"),
    "sla.met_late": ("LATE", "超时响应"),
    "sla.response": ("Response SLA", "响应时限"),
    "sla.resolution": ("Resolution SLA", "解决时限"),
    "sla.policy": ("policy {name}", "策略 {name}"),
    "sla.left": ("{left} left", "剩余 {left}"),
    "sla.over": ("{left} over", "超时 {left}"),
    "sla.due": ("due {at}", "截止 {at}"),
    "sla.met_at": ("at {at}", "于 {at}"),
    "sla.paused_left": ("{left} left, paused", "剩余 {left}（暂停）"),
    # -- ticket states, severities, categories, sources: the one table, tickets.labels
    **console_labels(),
    # -- timeline entry kinds
    "entry.opened": ("opened", "开单"),
    "entry.event": ("event", "事件"),
    "entry.state_change": ("state", "状态"),
    "entry.public_reply": ("reply", "回复"),
    "entry.internal_note": ("note", "内部备注"),
    "entry.assignment": ("assigned", "指派"),
    "entry.sla_transition": ("SLA", "时限"),
    "entry.correlation": ("related", "关联"),
    "entry.recovery": ("recovered", "恢复"),
    "entry.policy_change": ("policy", "策略变更"),
    "entry.affected_units": ("units", "受影响单位"),
    "entry.sla_pending": ("SLA (now)", "时限（当前）"),
    "entry.system": ("system", "系统"),
    # -- columns
    "col.sla": ("SLA", "时限"),
    "col.left": ("Left", "剩余"),
    "col.number": ("Ticket", "工单"),
    "col.severity": ("Sev", "级别"),
    "col.state": ("State", "状态"),
    "col.title": ("Title", "标题"),
    "col.where": ("Site / device / port", "机房 / 设备 / 端口"),
    "col.unit": ("Unit", "接入单位"),
    "col.due": ("Due (+08:00)", "响应时限（北京时间）"),
    "col.assignee": ("Assignee", "处理人"),
    "col.at": ("When (+08:00)", "时间（北京时间）"),
    "col.kind": ("What", "类型"),
    "col.who": ("Who", "操作人"),
    "col.text": ("Text", "内容"),
    # -- queue
    # Open: still to be worked (a resolved ticket waits only for its closing).
    "queue.counts": ("{n} open", "未解决 {n}"),
    "queue.resolved_count": ("{n} resolved", "已解决 {n}"),
    "queue.filters": ("Filters", "筛选"),
    "queue.no_filters": ("no filter", "无筛选"),
    "queue.more": ("{n} more of {total} not shown", "另有 {n} 张未显示（共 {total} 张）"),
    "queue.search": (
        "Search: title, text, number, unit or ASN, device, port, circuit",
        "搜索：标题、内容、工单号、接入单位或 AS 号、设备、端口、电路编号",
    ),
    "queue.search_active": ("search “{text}”", "搜索“{text}”"),
    "queue.empty": ("No tickets match.", "没有符合条件的工单。"),
    "queue.updated": ("updated {at}", "更新于 {at}"),
    "watch.silent": (
        "NOT WATCHED: collector {names} silent for over three intervals",
        "交换平台无人监测：采集器 {names} 已超过三个周期无心跳",
    ),
    "watch.silent_count": (
        "NOT WATCHED: {n} collector(s) silent for over three intervals",
        "交换平台无人监测：{n} 个采集器已超过三个周期无心跳",
    ),
    "watch.unknown": (
        "{n} devices unknown: no poll data for over three intervals",
        "{n} 台设备状态未知：超过三个周期无轮询数据",
    ),
    "queue.stale": ("database unreachable since {at}: {reason}", "{at} 起无法读取数据库：{reason}"),
    "queue.loading": ("loading…", "加载中…"),
    "queue.preview": (
        "{where} · unit {unit} · due {due} · {assignee}",
        "{where} · 接入单位 {unit} · 响应时限 {due} · {assignee}",
    ),
    "queue.nobody": ("unassigned", "未指派"),
    "queue.assigned": ("assignee {name}", "处理人 {name}"),
    "filter.site": ("Room (site)", "机房"),
    "filter.unit": ("Access unit", "接入单位"),
    "filter.state": ("State", "状态"),
    "filter.assignee": ("Assignee", "处理人"),
    "filter.severity": ("Severity", "级别"),
    "filter.category": ("Category", "类别"),
    "filter.any": ("any", "全部"),
    "filter.open": ("any open", "全部未关闭"),
    "filter.nobody": ("unassigned", "未指派"),
    "filter.apply": ("Apply", "应用"),
    "filter.cancel": ("Cancel", "取消"),
    "filter.title": ("Filter the queue", "筛选工单队列"),
    # -- ticket detail
    "ticket.where": ("Where", "位置"),
    "ticket.unit": ("Access unit", "接入单位"),
    "ticket.affected": ("Affected units", "受影响单位"),
    "ticket.category": ("Category", "类别"),
    "ticket.source": ("Source", "来源"),
    "ticket.opened": ("Opened", "开单时间"),
    "ticket.detected": ("Detected", "发现时间"),
    "ticket.assignee": ("Assignee", "处理人"),
    "ticket.parent": ("Part of", "上级工单"),
    "ticket.children": ("Part of / parts", "上级 / 下级工单"),
    "ticket.related": ("Related", "相关工单"),
    "ticket.suggested": ("Suggested", "建议关联"),
    "ticket.suggested_more": ("{n} more", "另有 {n} 张"),
    "ticket.nothing_related": (
        "Nothing open on the same port, link or device",
        "同一端口、链路或设备上没有未关闭的工单",
    ),
    "ticket.related_hint": (
        "l link · m merge — each keeps its own SLA clock",
        "l 关联 · m 合并 — 各自保留时限",
    ),
    "prompt.link": ("Link {number} with", "将 {number} 关联到"),
    "prompt.merge": (
        "Merge with {number} (a report goes into the alarm's ticket)",
        "与 {number} 合并（人工报障并入告警工单）",
    ),
    "action.done.link": ("{number} linked", "{number} 已关联"),
    "action.done.merge": ("{number} merged", "{number} 已合并"),
    "key.ticket.link": ("Link", "关联"),
    "key.ticket.merge": ("Merge", "合并"),
    "ticket.timeline": ("Timeline", "处理记录"),
    "ticket.none": ("—", "—"),
    "ticket.loading": ("loading…", "加载中…"),
    "ticket.gone": (
        "{number} is not visible to you (or does not exist).",
        "{number} 不存在或无权查看。",
    ),
    "ticket.runbook": ("Runbook", "处置预案"),
    "ticket.no_runbook": ("no runbooks yet", "暂无处置预案"),
    "graph.heading": (
        "{span} · {start} – {end} · from {source}",
        "{span} · {start} – {end} · 数据来源：{source}",
    ),
    "graph.source.samples": ("raw samples", "原始采样"),
    "graph.source.hour": ("hourly roll-ups", "小时汇总"),
    "graph.source.day": ("daily roll-ups", "日汇总"),
    "graph.empty": (
        "No samples or roll-ups in this time: nothing was polled here.",
        "该时段没有采样或汇总数据：此处未被采集。",
    ),
    "graph.traffic": ("Traffic (Mbit/s)", "流量（Mbit/s）"),
    "graph.errors": ("Errors and discards (/s)", "错包与丢弃（每秒）"),
    "graph.optics": ("Optical power (dBm)", "光功率（dBm）"),
    "graph.hours_ago": ("hours before now", "距今小时数"),
    "graph.series.in_bps": ("in", "入"),
    "graph.series.out_bps": ("out", "出"),
    "graph.series.in_errors_per_s": ("errors", "错包"),
    "graph.series.in_discards_per_s": ("discards", "丢弃"),
    "graph.series.rx_dbm": ("Rx", "Rx"),
    "graph.series.tx_dbm": ("Tx", "Tx"),
    "graph.nothing": (
        "This ticket names no port, trunk or unit to draw",
        "该工单没有可绘图的端口、中继或单位",
    ),
    "key.graph.back": ("Back", "返回"),
    "key.graph.hour": ("1 h", "1 小时"),
    "key.graph.day": ("24 h", "24 小时"),
    "key.graph.week": ("7 d", "7 天"),
    "key.graph.month": ("30 d", "30 天"),
    "key.ticket.graph": ("Traffic", "流量图"),
    "runbook.near_end": ("this end", "本端"),
    "runbook.far_end": ("far end", "对端"),
    "resolve.still_down_title": ("{number} is still down", "{number} 仍处于中断状态"),
    "resolve.still_down_note": (
        "Resolving now leaves the fault without an open ticket; the timeline will say so.",
        "现在解决将使该故障没有未结工单；处理记录中会注明。",
    ),
    "resolve.anyway": ("Resolve anyway", "仍然解决"),
    "ticket.callout_copied": ("Callout of {number} copied", "已复制 {number} 的联络卡"),
    # -- inspections: the rooms and what is due
    "insp.room": ("Room", "机房"),
    "insp.checklist": ("Checklist", "检查表"),
    "insp.state": ("State", "状态"),
    "insp.due_at": ("Due by (end of day)", "截止日期（当日结束前）"),
    "insp.due_by": ("{date} {weekday}", "{date} {weekday}"),
    "weekday.0": ("Mon", "周一"),
    "weekday.1": ("Tue", "周二"),
    "weekday.2": ("Wed", "周三"),
    "weekday.3": ("Thu", "周四"),
    "weekday.4": ("Fri", "周五"),
    "weekday.5": ("Sat", "周六"),
    "weekday.6": ("Sun", "周日"),
    "insp.last_done": ("Last signed", "上次提交"),
    "insp.run": ("Open run", "进行中"),
    "insp.status.overdue": ("OVERDUE", "已逾期"),
    "insp.status.due": ("DUE", "待巡检"),
    "insp.status.in_progress": ("STARTED", "进行中"),
    "insp.status.done": ("DONE", "已完成"),
    "insp.hint": (
        "Enter starts the room's walkthrough, or resumes the one already open.",
        "回车开始该机房的巡检，已有未完成的巡检则继续。",
    ),
    "insp.viewer": (
        "Read-only: you see what is due; engineers and admins walk the rooms.",
        "只读：可查看巡检计划；巡检由工程师和管理员执行。",
    ),
    "insp.refused": (
        "Inspections are the exchange's own rooms: not shown to {role} accounts.",
        "巡检涉及交换中心自有机房：{role} 账号无权查看。",
    ),
    "insp.not_yours": (
        "Only engineers and admins walk rooms.",
        "只有工程师和管理员可以执行巡检。",
    ),
    "insp.none": ("No active rooms.", "没有在用的机房。"),
    "insp.start_title": ("Start the walkthrough of {room}?", "开始 {room} 的巡检？"),
    "insp.start_what": (
        "A new run is opened now, recorded as started by {user}.",
        "将立即新建一次巡检，记录为 {user} 开始。",
    ),
    "insp.start_yes": ("Start", "开始"),
    # -- the walkthrough
    "walk.starting": ("Opening the walkthrough of {room}…", "正在打开 {room} 的巡检…"),
    "walk.failed": ("Could not open the walkthrough: {reason}", "无法打开巡检：{reason}"),
    "walk.col.item": ("Item", "检查项"),
    "walk.col.expect": ("Expect", "要求"),
    "walk.col.live": ("Live (age)", "实时值（时长）"),
    "walk.col.seen": ("Seen", "现场"),
    "walk.col.marks": ("Marks", "标记"),
    "walk.kind.check": ("check", "检查"),
    "walk.kind.reading": ("reading", "读数"),
    "walk.kind.text": ("text", "文本"),
    "walk.kind.photo": ("photo", "照片"),
    "walk.ok": ("ok", "正常"),
    "walk.fault": ("FAULT", "故障"),
    "walk.na": ("n.a.", "不适用"),
    "walk.optional": ("opt.", "可选"),
    "walk.required": ("required", "必填"),
    "walk.not_required": ("optional", "可选"),
    "walk.stale": ("STALE", "过期"),
    "walk.out": ("OUT", "越限"),
    "walk.flag": ("FLAG", "不符"),
    "walk.saving": ("saving", "保存中"),
    "walk.unsaved": ("UNSAVED", "未保存"),
    "walk.progress": (
        "{room} · run {run}{resumed} · {done}/{required} required done · {findings} finding(s)",
        "{room} · 第 {run} 次{resumed} · 必填已完成 {done}/{required} · 发现 {findings} 项",
    ),
    "walk.resumed": (" (resumed)", "（续）"),
    "walk.unsaved_count": (" · {n} UNSAVED (r retries)", " · {n} 项未保存（r 重试）"),
    "walk.live": (
        "live {value}, {age} ago from {sources}",
        "实时 {value}，{age} 前，来自 {sources}",
    ),
    "walk.live_stale": (
        "live {value} is STALE ({age} old, from {sources}): read the instrument and type it",
        "实时值 {value} 已过期（{age} 前，来自 {sources}）：请读取仪表后输入",
    ),
    "walk.no_live": ("no live reading: record what you see", "无实时读数：请记录现场所见"),
    "walk.keys.check": (
        "o ok · f fault · n n.a. · c confirm live · t note",
        "o 正常 · f 故障 · n 不适用 · c 采用实时值 · t 备注",
    ),
    "walk.keys.reading": (
        "Enter type the value · c confirm live · n n.a. · t note",
        "回车 输入读数 · c 采用实时值 · n 不适用 · t 备注",
    ),
    "walk.keys.text": ("Enter or t write · n n.a.", "回车或 t 填写 · n 不适用"),
    "walk.keys.photo": (
        "Enter give the photo's reference · n n.a.",
        "回车 填写照片编号 · n 不适用",
    ),
    "walk.recorded": ("recorded {what}", "已记录 {what}"),
    "walk.note": ("note: {note}", "备注：{note}"),
    "walk.ask.value": ("{label}: value in {unit}{bounds}", "{label}：读数（{unit}）{bounds}"),
    "walk.ask.bounds": (", expected {bounds}", "，要求 {bounds}"),
    "walk.ask.fault": (
        "{label}: FAULT. What is wrong? (goes into the finding's ticket)",
        "{label}：故障。问题描述（将写入巡检工单）",
    ),
    "walk.ask.na": ("{label}: why not applicable?", "{label}：为何不适用？"),
    "walk.ask.na_optional": (
        "{label}: not applicable (note optional)",
        "{label}：不适用（备注可选）",
    ),
    "walk.ask.text": ("{label}", "{label}"),
    "walk.ask.photo": (
        "{label}: photo reference (file name or URL)",
        "{label}：照片编号（文件名或链接）",
    ),
    "walk.ask.note": ("Note on {label}", "{label} 的备注"),
    "walk.bad_number": (
        "{text!r} is not a number: type the value in {unit}, e.g. 23.5",
        "“{text}” 不是数字：请输入以 {unit} 为单位的数值，如 23.5",
    ),
    "walk.below": (
        "below the minimum {limit}: it will be recorded and become a finding",
        "低于下限 {limit}：将照常记录并生成巡检发现",
    ),
    "walk.above": (
        "above the maximum {limit}: it will be recorded and become a finding",
        "高于上限 {limit}：将照常记录并生成巡检发现",
    ),
    "walk.out_saved": (
        "{label}: {value} is out of bounds, marked as a finding",
        "{label}：{value} 越限，已标记为巡检发现",
    ),
    "walk.not_a_reading": (
        "{label} is not a reading: use o / f / n",
        "{label} 不是读数：请用 o / f / n",
    ),
    "walk.not_a_check": (
        "{label} is not a check: press Enter to record it",
        "{label} 不是检查项：按回车记录",
    ),
    "walk.no_live_to_confirm": (
        "{label}: there is no live value to confirm",
        "{label}：没有可采用的实时值",
    ),
    "walk.note_first": ("Record {label} first, then add a note", "请先记录 {label} 再加备注"),
    "walk.save_failed": (
        "{label} NOT saved ({reason}); it stays marked, press r to retry",
        "{label} 未保存（{reason}）；已标记，按 r 重试",
    ),
    "walk.refused": ("Refused", "被拒绝"),
    "walk.nothing_unsaved": ("Everything is saved.", "全部已保存。"),
    "walk.wait_saves": (
        "{n} item(s) not saved yet: wait, or press r to retry",
        "{n} 项尚未保存：请等待或按 r 重试",
    ),
    "walk.missing": (
        "{n} required item(s) not recorded yet, first: {label}",
        "还有 {n} 个必填项未记录，第一个：{label}",
    ),
    "walk.submit_title": (
        "Submit and sign run {run} of {room} as {user}?",
        "以 {user} 身份提交并签署 {room} 第 {run} 次巡检？",
    ),
    "walk.submit_findings": ("These findings will become tickets:", "以下发现将生成工单："),
    "walk.submit_clean": ("No findings: no tickets will be opened.", "无发现：不会生成工单。"),
    "walk.submit_yes": ("Submit", "提交"),
    "walk.submitted": (
        "Run {run} of {room} submitted and signed by {user} at {at}.",
        "{room} 第 {run} 次巡检已由 {user} 于 {at} 提交签署。",
    ),
    "walk.already": ("It had already been submitted; nothing changed.", "此前已提交，未作改动。"),
    "walk.tickets": ("Findings → tickets (Enter opens one):", "巡检发现 → 工单（回车打开）："),
    "walk.no_tickets": ("No findings, no tickets.", "无发现，未生成工单。"),
    "walk.submit_failed": ("Not submitted", "提交失败"),
    "walk.closed": (
        "This run is submitted: it can no longer change.",
        "该巡检已提交，不能再修改。",
    ),
    # -- runbooks on a ticket
    "runbook.more": ("also: {names}", "另见：{names}"),
    "runbook.commands": ("Commands on {device}:", "在 {device} 上执行的命令："),
    "runbook.no_commands": ("Commands not filled in: {reason}", "命令无法填充：{reason}"),
    "runbook.step": ("Step", "步骤"),
    "runbook.pick": ("Run which command?", "执行哪条命令？"),
    "runbook.confirm": ("Run `{command}` on {device}?", "在 {device} 上执行 `{command}`？"),
    "runbook.confirm_note": (
        "Read-only (allow-listed); the output goes into the ticket's timeline as an internal note.",
        "只读命令（白名单内）；输出将作为内部备注写入工单处理记录。",
    ),
    "runbook.run": ("Run", "执行"),
    "runbook.ran": (
        "Ran `{command}` on {device}: output in the timeline",
        "已在 {device} 上执行 `{command}`：输出见处理记录",
    ),
    "runbook.ran_failed": (
        "`{command}` on {device} failed: the error is in the timeline",
        "在 {device} 上执行 `{command}` 失败：错误见处理记录",
    ),
    # -- actions and their prompts
    "action.done.acknowledge": ("{number} acknowledged", "{number} 已确认"),
    "action.done.reply": ("Reply added to {number}", "已回复 {number}"),
    "action.done.note": ("Note added to {number}", "已为 {number} 添加内部备注"),
    "action.done.assign": ("{number} assigned", "{number} 已指派"),
    "action.done.wait": ("{number} is waiting", "{number} 已转为等待"),
    "action.done.resolve": ("{number} resolved", "{number} 已解决"),
    "action.done.close": ("{number} closed", "{number} 已关闭"),
    "action.done.reopen": ("{number} reopened", "{number} 已重开"),
    "action.failed": ("Refused", "操作被拒绝"),
    "prompt.reply": ("Public reply to {number}", "公开回复 {number}"),
    "prompt.note": (
        "Internal note on {number} (never shown to contacts)",
        "{number} 内部备注（联系人不可见）",
    ),
    "prompt.resolve": ("Resolve {number}: what fixed it?", "解决 {number}：处理结果"),
    "prompt.close": ("Close {number}: why? (optional)", "关闭 {number}：原因（可选）"),
    "prompt.reopen": ("Reopen {number}: why? (optional)", "重开 {number}：原因（可选）"),
    "prompt.wait": ("Set {number} waiting on", "{number} 等待"),
    "prompt.wait_unit": ("the access unit", "接入单位"),
    "prompt.wait_vendor": ("a vendor", "厂商"),
    "prompt.wait_text": ("What are we waiting for? (optional)", "等待什么？（可选）"),
    "prompt.assign": ("Assign {number} to", "指派 {number} 给"),
    "prompt.nobody": ("nobody (take back)", "无人（收回）"),
    "prompt.ok": ("OK", "确定"),
    "prompt.cancel": ("Cancel", "取消"),
    "prompt.required": ("A text is needed.", "请填写内容。"),
    # -- new ticket
    "new.title": ("Title", "标题"),
    "new.body": ("Description", "描述"),
    "new.category": ("Category", "类别"),
    "new.severity": ("Severity", "级别"),
    "new.port": ("Your port", "本单位端口"),
    "new.device": ("Device", "设备"),
    "new.interface": ("Port", "端口"),
    "new.unit": ("Access unit", "接入单位"),
    "new.site": ("Room (site)", "机房"),
    "new.none": ("none", "无"),
    "new.submit": ("Open ticket", "提交工单"),
    "new.cancel": ("Cancel", "取消"),
    "new.opened": ("{number} opened", "{number} 已创建"),
    "new.hint_contact": (
        "You log an issue for one of your unit's ports; "
        "the center's 4-hour response clock starts now.",
        "为本单位的端口报障；中心的 4 小时响应时限从现在开始计算。",
    ),
    "new.hint_center": (
        "Name a device and port, a room, or an access unit, or nothing for a general issue.",
        "可指定设备和端口、机房或接入单位，也可都不填。",
    ),
    # -- planned work (tickets.planned)
    "plan.title": (
        "Planned work: whom it cuts off comes first",
        "计划维护：先列出将中断的接入单位",
    ),
    "plan.device": ("Device", "设备"),
    "plan.port": ("Port (or the whole device)", "端口（或整台设备）"),
    "plan.whole": ("the whole device", "整台设备"),
    "plan.start": ("Start (+08:00)", "开始（北京时间）"),
    "plan.end": ("End (+08:00)", "结束（北京时间）"),
    "plan.reason": ("Reason (the units' contacts read it)", "原因（接入单位联系人可见）"),
    "plan.check": ("Check", "检查影响"),
    "plan.declare": ("Declare and notify", "声明并通知"),
    "plan.cut_off": ("Cut off:", "业务中断："),
    "plan.loses_a_port": ("Lose a port, stay reachable:", "失去一个端口（仍可达）："),
    "plan.nobody": ("none", "无"),
    "plan.need_device": ("Pick a device.", "请选择设备。"),
    "plan.bad_time": (
        "Times are like 2026-11-28 02:00 (+08:00).",
        "时间格式如 2026-11-28 02:00（北京时间）。",
    ),
    "plan.end_first": ("The window must end after it starts.", "结束时间须晚于开始时间。"),
    "plan.need_reason": ("Say why: the contacts are told.", "请填写原因：将通知联系人。"),
    "plan.declared": (
        "{number}: planned work declared; {n} unit(s) notified",
        "{number}：计划维护已声明，已通知 {n} 个接入单位",
    ),
    "overview.planned": ("Planned work", "计划维护"),
    "overview.running": ("running", "进行中"),
    "overview.coming": ("coming", "即将开始"),
    "col.window": ("When (+08:00)", "时间（北京时间）"),
    "col.on": ("On", "维护对象"),
    "col.units": ("Units", "受影响单位"),
    "col.reason": ("Reason", "原因"),
    # -- overview
    "overview.devices": ("Devices", "设备"),
    "overview.tickets": ("Open tickets", "未关闭工单"),
    "overview.worst": ("Worst SLA", "最差时限"),
    "overview.no_collector": ("no data yet", "暂无数据"),
    "overview.devices_live": ("Devices up/down", "设备 在线/离线"),
    "overview.devices_unknown": ("Devices unknown", "设备 状态未知"),
    "overview.links_live": ("Links up/down/flap", "链路 通/断/抖动"),
    "overview.nearest": ("Nearest response deadlines", "最近的响应时限"),
    "overview.none_open": ("none open", "无"),
    "overview.no_deadlines": ("No running response clocks.", "没有正在计时的响应时限。"),
    "overview.no_site": ("no room", "未指定机房"),
    "role.exchange_switch": ("exchange switches", "交换机"),
    "role.access_switch": ("access switches", "接入交换机"),
    "role.router": ("routers", "路由器"),
    "role.route_server": ("route servers", "路由服务器"),
    "role.server": ("servers", "服务器"),
    "role.pdu": ("PDUs", "PDU"),
    "role.ups": ("UPS", "UPS"),
    "role.environment_sensor": ("env. sensors", "环境传感器"),
    # -- the exchange browser
    "ex.rooms": ("Rooms", "机房"),
    "ex.devices_n": ("{n} devices", "{n} 台设备"),
    "ex.down_n": ("{n} DOWN", "{n} 台离线"),
    "ex.floor": ("floor {floor}", "{floor} 层"),
    "ex.device.up": ("UP", "在线"),
    "ex.device.down": ("DOWN", "离线"),
    "ex.device.no_data": ("--", "--"),
    "ex.device.unknown": ("UNKN", "未知"),
    "ex.stale": (
        "UNKNOWN: no poll since {at} (over three intervals; is a collector running?)",
        "状态未知：{at} 后无轮询（超过三个周期；采集器是否在运行？）",
    ),
    "ex.port.up": ("UP", "通"),
    "ex.port.down": ("DOWN", "断"),
    "ex.port.admin_down": ("SHUT", "关闭"),
    "ex.port.unknown": ("?", "未知"),
    "ex.port.no_data": ("--", "--"),
    "ex.flap": ("FLAP", "抖动"),
    "ex.pick_device": (
        "Pick a device in the tree (Enter) to see its ports.",
        "在左侧树中选择设备（回车）查看端口。",
    ),
    "ex.pick_port": (
        "Pick a port (Enter) for its traffic, stability and events.",
        "选择端口（回车）查看流量、稳定性和事件。",
    ),
    "ex.no_data_device": (
        "no collector data yet for this device",
        "该设备暂无采集数据",
    ),
    "ex.no_ports": ("no ports", "无端口"),
    "ex.reachable": ("reachable, last seen {at}", "可达，最近应答 {at}"),
    "ex.unreachable": (
        "UNREACHABLE, last seen {at} ({error})",
        "不可达，最近应答 {at}（{error}）",
    ),
    "ex.never_seen": ("never answered", "从未应答"),
    "ex.readings": ("Readings {at}", "读数 {at}"),
    "ex.no_readings": ("no readings yet", "暂无读数"),
    "ex.last_event": ("Last event", "最近事件"),
    "ex.no_events": ("no events recorded", "暂无事件记录"),
    "ex.col.state": ("State", "状态"),
    "ex.col.port": ("Port", "端口"),
    "ex.col.link": ("Link", "链路"),
    "ex.col.speed": ("Speed", "速率"),
    "ex.col.in": ("In", "入"),
    "ex.col.out": ("Out", "出"),
    "ex.col.util": ("Util", "利用率"),
    "ex.col.errors": ("Err/s", "错包/秒"),
    "ex.col.since": ("Since (+08:00)", "变化于 +08:00"),
    "ex.col.description": ("Description", "描述"),
    "ex.member": ("member link of {unit}", "{unit} 接入链路"),
    "ex.trunk": ("trunk to {far}", "中继至 {far}"),
    "ex.no_link": ("no link", "无链路"),
    "ex.since": ("since {at}", "自 {at}"),
    "ex.flapping": ("flapping", "抖动中"),
    "ex.now": (
        "in {in_} ({in_pct}) · out {out} ({out_pct}) · errors {err} · polled {at}",
        "入 {in_}（{in_pct}）· 出 {out}（{out_pct}）· 错包 {err} · 采集于 {at}",
    ),
    "ex.not_polled": ("not polled yet", "尚未采集"),
    "ex.hour": ("Last hour (raw samples)", "最近一小时（原始采样）"),
    "ex.days": ("Last {days} days (hourly averages)", "最近 {days} 天（小时均值）"),
    "ex.series.in": ("in", "入"),
    "ex.series.out": ("out", "出"),
    "ex.series.errors": ("errors", "错包"),
    "ex.max": ("max {value}", "峰值 {value}"),
    "ex.no_samples": ("no samples in the last hour", "最近一小时无采样"),
    "ex.no_rollups": (
        "no hourly roll-ups yet (one is made as each hour ends)",
        "暂无小时汇总（每小时结束时生成）",
    ),
    "ex.stability": ("Link stability {period} (month to date)", "链路稳定性 {period}（本月至今）"),
    "ex.stability_figures": (
        "availability {availability} · outages {outages} · flap episodes {flaps} · "
        "MTTR {mttr} · down {down} · unknown {unknown}",
        "可用率 {availability} · 中断 {outages} 次 · 抖动 {flaps} 次 · "
        "平均修复 {mttr} · 中断时长 {down} · 未知 {unknown}",
    ),
    "ex.stable": ("STABLE", "稳定"),
    "ex.unstable": ("UNSTABLE", "不稳定"),
    "ex.no_stability_link": (
        "no link on this port: no stability figures",
        "该端口无链路，无稳定性数据",
    ),
    "ex.no_stability_data": (
        "no state reports for this link yet",
        "该链路尚无状态记录",
    ),
    "ex.optics": ("Optics", "光功率"),
    "ex.events": ("Recent events (+08:00)", "最近事件（北京时间）"),
    "ex.find": ("Find a device by name", "按名称查找设备"),
    "ex.not_found": ("no device matches “{text}”", "没有匹配“{text}”的设备"),
    "event.link_observed": ("first seen", "首次观测"),
    "event.link_down": ("link down", "链路中断"),
    "event.link_up": ("link up", "链路恢复"),
    "event.flapping_started": ("flapping started", "开始抖动"),
    "event.flapping_ended": ("flapping ended", "抖动结束"),
    "event.threshold_crossed": ("threshold crossed", "越限"),
    "event.threshold_cleared": ("threshold cleared", "越限恢复"),
    "event.device_unreachable": ("unreachable", "设备不可达"),
    "event.device_reachable": ("reachable again", "设备恢复可达"),
    "event.device_restarted": ("restarted", "设备重启"),
    "event.planned": ("planned", "计划内"),
    "device_role.exchange_switch": ("exchange switch", "交换机"),
    "device_role.access_switch": ("access switch", "接入交换机"),
    "device_role.router": ("router", "路由器"),
    "device_role.route_server": ("route server", "路由服务器"),
    "device_role.server": ("server", "服务器"),
    "device_role.pdu": ("PDU", "PDU"),
    "device_role.ups": ("UPS", "UPS"),
    "device_role.environment_sensor": ("environment sensor", "环境传感器"),
    # -- help
    "help.intro": (
        "Keys by screen. Remap any of them by its id in {path}.",
        "各界面的按键。可在 {path} 中按编号重新映射。",
    ),
    "help.key": ("Key", "按键"),
    "help.id": ("Id", "编号"),
    "help.what": ("What it does", "作用"),
    "help.global": ("Everywhere", "全局"),
    "help.keymap_bad": ("keymap {path}: {reason}", "按键映射 {path}：{reason}"),
    # -- the command palette
    "cmd.queue": ("Go to the ticket queue", "打开工单队列"),
    "cmd.overview": ("Go to the overview", "打开总览"),
    "cmd.exchange": ("Go to the exchange browser", "打开交换中心浏览"),
    "cmd.device": ("Exchange: device {name}", "交换中心：设备 {name}"),
    "cmd.new": ("Log a new ticket", "新建工单"),
    "cmd.help": ("Show the keys", "显示按键帮助"),
    "cmd.inspections": ("Go to the room inspections", "打开机房巡检"),
    "cmd.refresh": ("Refresh from the database now", "立即从数据库刷新"),
    "cmd.filter_site": ("Queue: only room {code}", "队列：仅看机房 {code}"),
    "cmd.clear": ("Queue: clear filters and search", "队列：清除筛选和搜索"),
    "cmd.open": ("Open {number}", "打开 {number}"),
    "cmd.targets": ("Go to the performance targets", "打开绩效目标"),
    "cmd.down": ("Go to what is down now", "打开当前中断"),
    "cmd.plan": ("Declare planned work", "声明计划维护"),
    "cmd.queue.help": (
        "Key 1 · every open ticket, least time left first",
        "按键 1 · 全部未关闭工单，剩余时间最少的在前",
    ),
    "cmd.overview.help": (
        "Key 2 · the rooms, SLA counts, nearest deadlines, planned work",
        "按键 2 · 各机房、时限统计、最近截止、计划维护",
    ),
    "cmd.exchange.help": (
        "Key 3 · rooms, devices and ports with their live state",
        "按键 3 · 机房、设备和端口及实时状态",
    ),
    "cmd.inspections.help": (
        "Key 4 · what is due this week; walk a room",
        "按键 4 · 本周待巡检；执行机房巡检",
    ),
    "cmd.targets.help": (
        "Key 5 · the year's performance-target table and its evidence",
        "按键 5 · 年度绩效目标表及证据",
    ),
    "cmd.down.help": (
        "Key 6 · every port, link and device down or unknown now",
        "按键 6 · 当前中断或状态未知的端口、链路和设备",
    ),
    "cmd.new.help": ("Key n on the queue · a ticket logged by you", "队列按键 n · 人工登记工单"),
    "cmd.help.help": ("Key ? · every key of this screen", "按键 ? · 本屏幕的全部按键"),
    "cmd.refresh.help": ("Key ctrl+r · read the store again", "按键 ctrl+r · 重新读取数据库"),
    "cmd.plan.help": (
        "Key p on the queue · a maintenance window; who it cuts off is shown first",
        "队列按键 p · 维护窗口；先列出将中断的接入单位",
    ),
    "cmd.clear.help": ("Key x · show every open ticket again", "按键 x · 重新显示全部未关闭工单"),
    # -- binding descriptions, by binding id
    "key.app.quit": ("Quit", "退出"),
    "key.app.help": ("Help", "帮助"),
    "key.app.queue": ("Queue", "队列"),
    "key.app.overview": ("Overview", "总览"),
    "key.app.exchange": ("Exchange", "交换中心"),
    "key.app.inspections": ("Inspect", "巡检"),
    "key.app.down": ("Down now", "当前中断"),
    "key.down.open": ("Open ticket", "打开工单"),
    "screen.down": ("Down now", "当前中断"),
    "down.summary": (
        "{down} down, {unknown} unknown (nobody polled them lately); {polled} devices polled",
        "中断 {down}，未知 {unknown}（近期无人采集）；已采集设备 {polled} 台",
    ),
    "down.col.what": ("What", "对象"),
    "down.col.state": ("State", "状态"),
    "down.col.since": ("Since (+08:00)", "起始（北京时间）"),
    "down.col.for": ("For", "持续"),
    "down.col.ticket": ("Ticket", "工单"),
    "down.col.room": ("Room", "机房"),
    "down.col.detail": ("Detail", "说明"),
    "down.kind.device": ("device", "设备"),
    "down.kind.link": ("link", "链路"),
    "down.kind.port": ("port", "端口"),
    "down.state.down": ("DOWN", "中断"),
    "down.state.unknown": ("UNKNOWN", "未知"),
    "down.never": ("never polled", "从未采集"),
    "down.collectors": ("Collectors:", "采集器："),
    "down.no_collectors": (
        "no collector has ever sent a heartbeat: nothing is being watched",
        "从未收到采集器心跳：无人监视",
    ),
    "down.collector": (
        "{state}, last heartbeat {at}, {answered}/{polled} answered",
        "{state}，最近心跳 {at}，应答 {answered}/{polled}",
    ),
    "down.collector.running": ("running", "运行中"),
    "down.collector.silent": ("SILENT", "失联"),
    "down.collector.stopped": ("stopped", "已停止"),
    "key.inspections.walk": ("Walk", "巡检"),
    "key.walk.back": ("Back", "返回"),
    "key.walk.down": ("Next", "下一项"),
    "key.walk.up": ("Previous", "上一项"),
    "key.walk.ok": ("OK", "正常"),
    "key.walk.fault": ("Fault", "故障"),
    "key.walk.na": ("N.a.", "不适用"),
    "key.walk.record": ("Type", "输入"),
    "key.walk.confirm": ("Confirm live", "采用实时值"),
    "key.walk.text": ("Note", "备注"),
    "key.walk.retry": ("Retry unsaved", "重试未保存"),
    "key.walk.submit": ("Submit", "提交"),
    "key.walk.open": ("Open ticket", "打开工单"),
    "key.confirm.yes": ("Yes", "确定"),
    "key.exchange.open": ("Open", "打开"),
    "key.exchange.back": ("Back", "返回"),
    "key.exchange.find": ("Find", "查找"),
    "key.exchange.expand": ("Expand", "展开"),
    "key.exchange.collapse": ("Collapse", "收起"),
    "key.exchange.stop_find": ("Stop finding", "结束查找"),
    "key.app.refresh": ("Refresh", "刷新"),
    "key.group.Screens": ("Screens", "界面"),
    "key.app.targets": ("Targets", "绩效"),
    "key.targets.open": ("Open ticket", "打开工单"),
    "key.targets.evidence": ("Evidence", "证据"),
    "key.app.palette": ("Commands", "命令"),
    "key.queue.open": ("Open", "打开"),
    "key.queue.search": ("Search", "搜索"),
    "key.queue.filter": ("Filter", "筛选"),
    "key.queue.clear": ("Clear", "清除"),
    "key.queue.new": ("New", "新建"),
    "key.ticket.back": ("Back", "返回"),
    "key.ticket.acknowledge": ("Ack", "确认"),
    "key.ticket.reply": ("Reply", "回复"),
    "key.ticket.note": ("Note", "备注"),
    "key.ticket.assign": ("Assign", "指派"),
    "key.ticket.wait": ("Wait", "等待"),
    "key.ticket.resolve": ("Resolve", "解决"),
    "key.ticket.close": ("Close", "关闭"),
    "key.ticket.reopen": ("Reopen", "重开"),
    "key.ticket.run_command": ("Run cmd", "执行命令"),
    "key.ticket.copy_callout": ("Copy callout", "复制联络卡"),
    "key.new.submit": ("Submit", "提交"),
    "key.new.cancel": ("Cancel", "取消"),
    "key.queue.plan": ("Plan work", "计划维护"),
    "key.plan.next": ("Check / declare", "检查 / 声明"),
    "key.overview.open": ("Open", "打开"),
    "key.help.close": ("Close", "关闭"),
    "key.modal.cancel": ("Cancel", "取消"),
    "key.modal.submit": ("OK", "确定"),
    "key.search.cancel": ("Stop search", "结束搜索"),
}


class Labels:
    """The label table in one language; ``labels("key", n=3)`` formats its fields."""

    def __init__(self, lang: Lang) -> None:
        self.lang: Lang = lang
        self._index = LANGS.index(lang)

    def __call__(self, key: str, **fields: object) -> str:
        """The label, its fields filled in; a string field (a title, a device's error, what a
        person searched for) is shown with its control characters visible, on one line."""
        text = _LABELS[key][self._index]
        if not fields:
            return text
        return text.format(
            **{k: visible(v, one_line=True) if isinstance(v, str) else v for k, v in fields.items()}
        )

    def has(self, key: str) -> bool:
        return key in _LABELS

    def state(self, state: TicketState | str) -> str:
        return self(f"state.{TicketState(state).value}")

    def severity(self, severity: Severity | str) -> str:
        return self(f"severity.{Severity(severity).value}")

    def category(self, category: TicketCategory | str) -> str:
        return self(f"category.{TicketCategory(category).value}")

    def sla(self, status: SlaStatus) -> str:
        return self(f"sla.{status.value}")

    def source(self, source: TicketSource | str) -> str:
        return self(f"source.{TicketSource(source).value}")

    def entry(self, kind: EntryKind | str) -> str:
        key = f"entry.{kind}"
        return self(key) if key in _LABELS else str(kind)

    def event(self, kind: str) -> str:
        key = f"event.{kind}"
        return self(key) if key in _LABELS else kind.replace("_", " ")

    def device_role(self, role: str) -> str:
        key = f"device_role.{role}"
        return self(key) if key in _LABELS else role

    def role(self, role: str) -> str:
        key = f"role.{role}"
        return self(key) if key in _LABELS else role


def parse_lang(value: str | None) -> Lang:
    """``zh``/``en`` (and ``zh_CN``-style locales) to a language; anything else is English."""
    if value and value.lower().startswith("zh"):
        return "zh"
    return "en"


def all_keys() -> list[str]:
    return list(_LABELS)

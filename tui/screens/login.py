"""Name and password, checked with ``inventory.accounts.authenticate`` in a worker thread
(argon2 is deliberately slow); one message for every failure, as the service gives it."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from inventory.accounts import AccountError, LoginThrottled
from tui.bindings import localize
from tui.context import Context
from tui.store import UserInfo


class LoginScreen(Screen[UserInfo]):
    class Failed(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    class Succeeded(Message):
        def __init__(self, user: UserInfo) -> None:
            super().__init__()
            self.user = user

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        localize(self, ctx.labels)

    def compose(self) -> ComposeResult:
        lab = self.ctx.labels
        with Vertical(id="login", classes="dialog"):
            yield Label(f"{lab('app.title')} · {lab('screen.login')}", classes="dialog-title")
            yield Static(lab("login.hint"), classes="hint")
            yield Label(lab("login.user"))
            yield Input(id="name")
            yield Label(lab("login.password"))
            yield Input(id="password", password=True)
            yield Label("", id="problem", classes="problem")
            yield Button(lab("login.submit"), variant="primary", id="submit")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Submitted, "#name")
    def _next(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        password = self.query_one("#password", Input).value
        self.query_one("#problem", Label).update(self.ctx.labels("login.checking"))
        self._check(name, password)

    @work(thread=True, exclusive=True, group="login")
    def _check(self, name: str, password: str) -> None:
        try:
            user = self.ctx.store.login(name, password, now=self.ctx.clock())
        except LoginThrottled as exc:
            self.post_message(self.Failed(str(exc)))
        except AccountError:
            # authenticate() gives one reason for every failure; say it in the user's language.
            self.post_message(self.Failed(self.ctx.labels("login.refused")))
        except SQLAlchemyError as exc:
            self.post_message(self.Failed(str(getattr(exc, "orig", None) or exc)))
        else:
            self.post_message(self.Succeeded(user))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.query_one("#problem", Label).update(
            self.ctx.labels("login.failed", reason=message.reason)
        )
        password = self.query_one("#password", Input)
        password.value = ""
        password.focus()

    @on(Succeeded)
    def _succeeded(self, message: Succeeded) -> None:
        self.dismiss(message.user)

"""The conversation handler, split by job: `routing` (the `Handler` facade every platform
calls), `commands` (typed commands, the queue), `case_actions` (what each case action does
and says) and `intake_loop` (load, step and save an intake, then open the case)."""

from bot.handler.commands import HELP_CUSTOMER, HELP_ENGINEER
from bot.handler.intake_loop import HandlerSettings, conversation_key
from bot.handler.routing import Handler

__all__ = ["HELP_CUSTOMER", "HELP_ENGINEER", "Handler", "HandlerSettings", "conversation_key"]

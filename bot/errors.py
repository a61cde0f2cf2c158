"""The bot layer's exceptions: one root, messages a customer or an operator can act on.

FrontdoorError
├── ConfigError          the deployment file or settings are wrong (names the key)
├── StoreError           the store failed (unreachable, corrupt record)
│   └── StaleWriteError  someone else wrote first: reload and retry, never drop
├── NotAllowedError      the person's role doesn't allow the action (audited)
├── CaseNotFoundError    no such case, or not one this person may see
├── InvalidTransitionError  the case's status doesn't allow the action
├── ResponsePlanError    no war team (yet), no such plan item, or an unusable entry
├── UserIdError          an id a customer admin can't add: malformed, or someone else's
├── ChoiceIdError        a posted-back choice id that no button of ours has
├── EvidenceError        a report, service window or survey request that can't be served
│   └── ReportError      a report asked for an unknown customer or an unreadable period
└── KnowledgeError       the knowledge base can't be read or built (names the file), or
                         an article that isn't in it
"""

from __future__ import annotations


class FrontdoorError(Exception):
    """Root of every error raised by `bot`."""


class ConfigError(FrontdoorError):
    """The deployment file or the settings are wrong; the message names the key."""


class StoreError(FrontdoorError):
    """The store could not do what was asked."""


class StaleWriteError(StoreError):
    """An optimistic-concurrency write lost: the record changed since it was read."""


class NotAllowedError(FrontdoorError):
    """The person's role does not allow this action."""


class CaseNotFoundError(FrontdoorError):
    """No such case, or not one this person may see (the two are not told apart)."""


class InvalidTransitionError(FrontdoorError):
    """The case's current status does not allow this action."""


class ResponsePlanError(FrontdoorError):
    """A war team's response-plan entry can't be recorded: the message says why and what to do
    (no war team yet, no such item, a cadence that isn't one)."""


class UserIdError(FrontdoorError):
    """A user id a customer admin can't add: not a platform id, or already someone else's (a
    platform id belongs to one organisation only). The message says what to give instead."""


class ChoiceIdError(FrontdoorError):
    """A choice id posted back that no button or option of ours carries."""


class EvidenceError(FrontdoorError):
    """A report, service window or survey answer can't be served: the message says what to
    give instead."""


class ReportError(EvidenceError):
    """A report was asked for something that isn't one: an unknown customer, a bad month."""


class KnowledgeError(FrontdoorError):
    """The knowledge base: a document folder that can't be read, an index that can't be
    built or opened (the message names the path and what to do), or an unknown article."""

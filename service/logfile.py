"""The log file: warnings and the full trace of unexpected errors, with personal data masked.

`configure` sends the ``orderhub`` loggers to the file `log_path` names — ``$ORDERHUB_LOG``,
else ``orderhub.log`` in the working directory — created only when something is written.
Every line goes through `mask_personal` first: mainland mobile numbers (with or without
+86, spaced or not) become ``138****5678``, and receiver fields and street addresses
become ``***`` wherever they sit (a dict's repr, JSON, free text). What a terminal shows of
an unexpected error is one line (`one_line`); the trace is in the file.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

from service.masking import mask_phones

DEFAULT_FILE = "orderhub.log"
MASK = "***"
LOGGER = "orderhub"

#: keys whose values are a receiver's data, as the platforms and orderhub spell them
_KEY = r"[A-Za-z_]*(?:receiver|consignee|contact|address|addr|street|detail|mobile|phone|tel)\w*"
#: a quoted key, its colon, then a quoted value, a {…} without nested braces, or a number
_KEYED = re.compile(
    rf"""(?P<key>(?P<q>["'])(?:{_KEY})(?P=q)\s*:\s*)"""
    r"""(?P<value>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|\{[^{}]*\}|\[[^\[\]]*\]|[+\d][\d \-]*)""",
    re.IGNORECASE,
)
#: a street address in free text: a road, a number, 号, and what follows (幢, 室, 单元 …)
_STREET = re.compile(
    r"[\u4e00-\u9fff]{1,16}(?:路|街|道|巷|弄|胡同|大道|村)\s*[\d０-９]+\s*号[\w\-#－]*"
)


def log_path() -> Path:
    """Where the log goes: ``$ORDERHUB_LOG``, else ``orderhub.log`` in the working directory."""
    return Path(os.environ.get("ORDERHUB_LOG") or DEFAULT_FILE)


def mask_personal(text: str) -> str:
    """`text` with phones, receiver fields and street addresses masked."""
    text = _KEYED.sub(_mask_value, text)
    text = _STREET.sub(MASK, text)
    return mask_phones(text)


def one_line(exc: BaseException, limit: int = 160) -> str:
    """``Type: first line of the message`` with personal data masked, at most `limit` long."""
    lines = str(exc).strip().splitlines()
    message = mask_personal(lines[0] if lines else "")
    if len(message) > limit:
        message = message[: limit - 1] + "…"
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class MaskingFormatter(logging.Formatter):
    """A formatter whose every line (message and trace) has personal data masked."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_personal(super().format(record))


class LogFile(logging.FileHandler):
    """The log file, opened at the first record; a failure to write says so in one line."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8", delay=True)
        self.failed: str | None = None
        self.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        # the default prints the record (with its personal data) and a trace to stderr
        if self.failed is None:
            self.failed = one_line(sys.exc_info()[1] or OSError("unknown"))
            print(
                f"warning: cannot write the log file {self.baseFilename}: {self.failed}",
                file=sys.stderr,
            )


def configure(path: Path | None = None) -> LogFile:
    """Send the ``orderhub`` loggers (warnings and up) to the log file; return its handler."""
    handler = LogFile(path or log_path())
    logger = logging.getLogger(LOGGER)
    for old in [h for h in logger.handlers if isinstance(h, LogFile)]:
        logger.removeHandler(old)
        old.close()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    handler.setLevel(logging.WARNING)
    return handler


def _mask_value(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = value[0] if value[0] in "\"'" else match.group("q")
    return f"{match.group('key')}{quote}{MASK}{quote}"

"""Cheaper live-view polls: Streamlit's per-run work that does not change while the server runs.

Every script run, each fragment run of a live view included, starts with a "new session" message
that Streamlit rebuilds from the config: the theme (six sections, each a walk over every config
option with a regex per name) and the client config. Measured with py-spy on a page whose
fragment draws one line, that was a quarter of the web process's CPU per poll. Both only change
when the config file is parsed again, so they are built once per parse and copied after.

Internal Streamlit functions are wrapped here, guarded: if a Streamlit upgrade moves them,
`install()` leaves Streamlit as it is and says so (tests/ui/test_speedups.py checks both the
speed-up and that the message stays the same).
"""
from __future__ import annotations

import logging
from typing import Any, Callable

log = logging.getLogger(__name__)
_cache: dict[tuple[str, str], Any] = {}
_installed = False


def _memoized(original: Callable[..., None], name: str) -> Callable[..., None]:
    """`original(msg, *args)` fills a protobuf message; copy a filled one instead."""
    def fill(msg, *args) -> None:
        key = (name, repr(args))
        filled = _cache.get(key)
        if filled is None:
            filled = type(msg)()
            original(filled, *args)
            _cache[key] = filled
        if filled.ListFields():    # merging an empty message would mark a sub-message as set
            msg.MergeFrom(filled)
    fill.__wrapped__ = original
    return fill


def install() -> bool:
    """Wrap Streamlit's theme and config message builders (once); False if they are not found."""
    global _installed
    if _installed:
        return True
    try:
        from streamlit import config
        from streamlit.runtime import app_session
        theme, client = app_session._populate_theme_msg, app_session._populate_config_msg
    except (ImportError, AttributeError) as e:
        log.warning("Streamlit speed-ups not installed (%s): polls cost a little more", e)
        return False
    app_session._populate_theme_msg = _memoized(theme, "theme")
    app_session._populate_config_msg = _memoized(client, "config")
    config.on_config_parsed(_cache.clear, force_connect=True)   # a new config: build them again
    _installed = True
    return True

"""The Streamlit speed-ups send the very same "new session" message, built once per config parse."""
from streamlit import config
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime import app_session

from playground.ui import streamlit_speedups


def new_session_parts() -> bytes:
    msg = ForwardMsg()
    app_session._populate_config_msg(msg.new_session.config)
    app_session._populate_theme_msg(msg.new_session.custom_theme)
    app_session._populate_theme_msg(msg.new_session.custom_theme.light, "theme.light")
    return msg.SerializeToString()


def test_the_new_session_message_is_unchanged_and_built_once(monkeypatch):
    assert streamlit_speedups.install()
    theme = app_session._populate_theme_msg.__wrapped__
    config_msg = app_session._populate_config_msg.__wrapped__
    expected = ForwardMsg()                                   # what Streamlit itself builds
    config_msg(expected.new_session.config)
    theme(expected.new_session.custom_theme)
    theme(expected.new_session.custom_theme.light, "theme.light")
    calls = []
    monkeypatch.setattr(config, "get_options_for_section",
                        lambda section, f=config.get_options_for_section: calls.append(section) or f(section))
    streamlit_speedups._cache.clear()
    first, second = new_session_parts(), new_session_parts()
    assert first == second == expected.SerializeToString()
    assert calls.count("theme") == 1                          # the second message was copied


def test_a_new_config_parse_builds_them_again(monkeypatch):
    assert streamlit_speedups.install()
    new_session_parts()
    assert streamlit_speedups._cache
    config._on_config_parsed.send()
    assert not streamlit_speedups._cache

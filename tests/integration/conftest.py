"""Integration tests: a real A1111 WebUI with this extension, over HTTP (skipped unless A1111_DIR is set).

The session-scoped ``webui`` fixture starts one WebUI for all tests (see ``tests/a1111.py``) and stops it at the
end. When a test here fails, the tail of the WebUI's log is added to the report.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from tests import a1111

_SERVER: a1111.WebUI | None = None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = str(config.rootpath / "tests" / "integration")
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.a1111)


@pytest.fixture(scope="session")
def a1111_host() -> a1111.Host:
    """Where A1111 and the tiny models are; skips every test that needs it when A1111_DIR is unset."""
    host = a1111.locate()  # a set but unusable A1111_DIR raises: that is a broken setup, not a skip
    if host is None:
        pytest.skip("A1111_DIR not set: " + a1111.SETUP_HELP)
    return host


@pytest.fixture(scope="session")
def webui(a1111_host: a1111.Host, tmp_path_factory: pytest.TempPathFactory) -> Iterator[a1111.WebUI]:
    """One running WebUI (tiny-sd1 loaded, this checkout as extension ``sd-webui-smoothie``) for the session."""
    global _SERVER
    server = a1111.launch(a1111_host, tmp_path_factory.mktemp("a1111"))
    _SERVER = server
    try:
        yield server
    finally:
        _SERVER = None
        server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and _SERVER is not None:
        report.sections.append(("A1111 log (tail)", _SERVER.tail(6000)))
    return report

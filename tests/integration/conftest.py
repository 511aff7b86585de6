"""Integration tests: a real WebUI with this extension, over HTTP — the same suite against each host given.

``A1111_DIR``, ``FORGE_DIR`` and ``REFORGE_DIR`` name the hosts (see ``tests/hosts.py``); a host that is not set
is skipped with instructions. The session-scoped ``webui`` fixture starts one server per host for all tests (one
at a time) and stops it at the end. When a test fails, the tail of the server's log is added to the report.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from tests import hosts

_SERVER: hosts.WebUI | None = None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = str(config.rootpath / "tests" / "integration")
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.a1111)


@pytest.fixture(scope="session", params=hosts.HOSTS, ids=[k.key for k in hosts.HOSTS])
def host_kind(request: pytest.FixtureRequest) -> hosts.HostKind:
    """Each kind of host in turn (A1111, Forge, reForge)."""
    return request.param


@pytest.fixture(scope="session")
def host(host_kind: hosts.HostKind) -> hosts.Host:
    """A host named by its ``<HOST>_DIR``; skips every test that needs it when that is unset."""
    kind = host_kind
    found = kind.locate()  # a set but unusable <HOST>_DIR raises: that is a broken setup, not a skip
    if found is None:
        pytest.skip(f"{kind.env_dir} not set: {kind.setup_help}")
    return found


@pytest.fixture(scope="session")
def webui(host: hosts.Host, tmp_path_factory: pytest.TempPathFactory) -> Iterator[hosts.WebUI]:
    """One running WebUI (its SD1 model loaded, this checkout as extension ``sd-webui-smoothie``) per host."""
    global _SERVER
    server = hosts.launch(host, tmp_path_factory.mktemp(host.kind.key))
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
        report.sections.append((f"{_SERVER.kind.label} log (tail)", _SERVER.tail(6000)))
    return report

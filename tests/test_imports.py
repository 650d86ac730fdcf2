"""No import circles among runenv's modules (the layers and purity contracts are lint-imports')."""

from __future__ import annotations

import grimp


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph("tasks")
    circles = sorted(
        f"{module} <-> {other}"
        for module in graph.modules
        for other in graph.find_modules_directly_imported_by(module)
        if module < other and graph.find_shortest_chain(importer=other, imported=module)
    )
    assert circles == []

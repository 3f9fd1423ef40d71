"""Run the dbt engine models as dbt compiled them, directly on DuckDB.

The dbt models stay the definition of the engine: dbt compiles them (once per configuration
and project version) and this module executes the compiled SQL in dbt's order, on one DuckDB
connection, with the materialisation each model declares. A compute run then pays no dbt
start-up, parse or per-node overhead (about 4 s of fixed cost); the one Python model,
eng_treatment, runs the same function as its dbt model (pipelines.index.treatment_rows).
The compiled SQL is cached beside the scratch warehouse, keyed by the vars and a hash of every
file dbt reads, so an edit to a model, a macro or dbt itself compiles again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.content_hash import files_digest
from pipelines.index.dbt_runner import DbtRunError, dbt_versions
from pipelines.index.duckdb_native import Connection, Error
from pipelines.index.treatment_schema import ROW_COLUMNS, create_empty

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
CACHE_FILE = "engine_sql.json"
# Files whose content defines the compiled SQL (besides the vars).
PROJECT_INPUTS = ("models/**/*", "macros/**/*", "dbt_project.yml", "profiles.yml")


@dataclass(frozen=True)
class EngineNode:
    """One compiled engine model: where it goes and how it is made."""

    name: str
    relation: str
    schema: str
    materialized: str
    language: str
    code: str
    config: dict[str, Any]
    depends_on: tuple[str, ...]


def project_fingerprint(dbt_vars: dict[str, object]) -> str:
    """Hash of the vars, dbt's versions and every project file: a change compiles again."""
    digest = hashlib.sha256(json.dumps(dbt_vars, sort_keys=True).encode())
    digest.update("".join(dbt_versions()).encode())
    digest.update(files_digest(PROJECT_DIR, PROJECT_INPUTS).encode())
    return digest.hexdigest()


def engine_nodes(manifest: dict[str, Any]) -> list[EngineNode]:
    """The engine models of a compiled manifest, in an order that runs each after its inputs
    (ties broken by name, so the order is always the same)."""
    nodes = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and "engine" in node["tags"]
    }
    ordered: list[EngineNode] = []
    done: set[str] = set()
    while len(done) < len(nodes):
        ready = sorted(
            unique_id
            for unique_id, node in nodes.items()
            if unique_id not in done
            and all(d in done or d not in nodes for d in node["depends_on"]["nodes"])
        )
        if not ready:
            raise RuntimeError("the engine models depend on each other in a cycle")
        for unique_id in ready:
            node = nodes[unique_id]
            ordered.append(
                EngineNode(
                    name=node["name"],
                    relation=node["relation_name"],
                    schema=node["schema"],
                    materialized=node["config"]["materialized"],
                    language=node.get("language", "sql"),
                    code=node.get("compiled_code") or "",
                    config=node["config"],
                    depends_on=tuple(
                        nodes[d]["relation_name"] if d in nodes else d
                        for d in node["depends_on"]["nodes"]
                    ),
                )
            )
            done.add(unique_id)
    return ordered


def cached_engine(dbt_vars: dict[str, object], workspace: Path) -> list[EngineNode] | None:
    """The engine dbt compiled earlier for these vars and this project version, or None."""
    cache = workspace / CACHE_FILE
    if not cache.exists():
        return None
    cached = json.loads(cache.read_text())
    if cached.get("fingerprint") != project_fingerprint(dbt_vars):
        return None
    return [
        EngineNode(**{**node, "depends_on": tuple(node["depends_on"])}) for node in cached["nodes"]
    ]


def compiled_engine(
    warehouse: Path, dbt_vars: dict[str, object], workspace: Path
) -> list[EngineNode]:
    """The compiled engine for these vars: from the cache, or compiled by dbt now (the
    warehouse must hold the compute sources and be closed, since dbt opens it)."""
    cached = cached_engine(dbt_vars, workspace)
    if cached is not None:
        return cached
    fingerprint = project_fingerprint(dbt_vars)
    cache = workspace / CACHE_FILE
    from pipelines.index.dbt_runner import run_dbt

    target = workspace / "target"
    run_dbt(
        "compile", warehouse=warehouse, dbt_vars=dbt_vars, select="tag:engine", target_path=target
    )
    nodes = engine_nodes(json.loads((target / "manifest.json").read_text()))
    partial = cache.with_suffix(".partial")
    partial.write_text(
        json.dumps({"fingerprint": fingerprint, "nodes": [n.__dict__ for n in nodes]})
    )
    os.replace(partial, cache)
    return nodes


def run_engine(
    con: Connection,
    nodes: list[EngineNode],
    timings: dict[str, float] | None = None,
) -> None:
    """Create every engine relation on this connection, as dbt run would; a failing model
    raises DbtRunError naming it, as a dbt run does. timings, when given, gets each model's
    seconds (the bench's profile), and the models then run one statement at a time."""
    for schema in sorted({node.schema for node in nodes}):  # once each, not once per model
        con.execute(f"create schema if not exists {schema}")  # names from dbt's manifest
    if timings is not None:
        for node in nodes:
            started = time.perf_counter()
            run_node(con, node)
            timings[node.name] = time.perf_counter() - started
        return
    script: list[tuple[EngineNode, str]] = []
    for node in nodes:
        statement = node_statement(node)
        if statement is None:  # a Python model: the statements before it run first
            run_script(con, script)
            script = []
            make_python_model(con, node)
        else:
            script.append((node, statement))
    run_script(con, script)


def run_node(con: Connection, node: EngineNode) -> None:
    """One model, alone."""
    statement = node_statement(node)
    if statement is None:
        make_python_model(con, node)
    else:
        run_script(con, [(node, statement)])


def node_statement(node: EngineNode) -> str | None:
    """The statement that makes `node` with its declared materialisation (relation names come
    from dbt's manifest), or None for a Python model that runs in Python. Untreated, the one
    Python model (eng_treatment) is an empty table: made from its columns, without polars."""
    if node.language == "python":
        if node.name != "eng_treatment":
            raise RuntimeError(f"{node.name}: no direct runner for this Python model")
        if node.config["treat"] != "none":
            return None
        return f"create or replace table {node.relation} ({create_empty(ROW_COLUMNS)})"
    kind = {"view": "view", "table": "table"}.get(node.materialized)
    if kind is None:
        raise RuntimeError(f"{node.name}: materialisation {node.materialized} not supported")
    return f"create or replace {kind} {node.relation} as (\n{node.code}\n)"


def run_script(con: Connection, script: list[tuple[EngineNode, str]]) -> None:
    """The models' statements as one script: one call into DuckDB and one return to Python,
    which matters while polars loads on another thread (every return waits for the
    interpreter lock). On a failure they run again one at a time (each replaces what it makes)
    so that the error names the model at fault."""
    if not script:
        return
    try:
        con.execute(";\n".join(statement for _, statement in script))
    except Error as script_error:
        for node, statement in script:
            try:
                con.execute(statement)
            except Error as error:
                raise DbtRunError(f"dbt run failed: {node.name}: error: {error}") from error
        raise script_error


def make_python_model(con: Connection, node: EngineNode) -> None:
    """The engine's treated eng_treatment, by the function its dbt model calls."""
    from pipelines.index.arrow_stream import create_table, frame_of
    from pipelines.index.treatment_rows import treatment_rows

    (imputed,) = (d for d in node.depends_on if d.endswith('"eng_imputed"'))
    rows = treatment_rows(node.config["treat"], lambda: frame_of(con, f"select * from {imputed}"))
    create_table(con, node.relation, rows)

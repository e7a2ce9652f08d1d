"""The migrated schema holds every table and column that docs/DATA_MODELS.md names.

The doc is the contract with the app team: each `### `name` Table` (or
`#### `name``) heading is followed by a markdown table whose rows start with a
backticked column name and type. Columns the schema adds beyond the doc are
fine; a documented column that is missing or has an incompatible type is not.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

DOC = Path(__file__).parents[2] / "docs" / "DATA_MODELS.md"

# Doc type -> (information_schema.columns.data_type, udt_name).
PG_TYPES: dict[str, tuple[str, str]] = {
    "uuid": ("uuid", "uuid"),
    "text": ("text", "text"),
    "boolean": ("boolean", "bool"),
    "integer": ("integer", "int4"),
    "serial": ("integer", "int4"),
    "bigserial": ("bigint", "int8"),
    "float": ("double precision", "float8"),
    "date": ("date", "date"),
    "timestampz": ("timestamp with time zone", "timestamptz"),  # the doc's spelling
    "timestamptz": ("timestamp with time zone", "timestamptz"),
    "jsonb": ("jsonb", "jsonb"),
    "vector": ("USER-DEFINED", "vector"),
    "text[]": ("ARRAY", "_text"),
    "uuid[]": ("ARRAY", "_uuid"),
}
SERIAL_TYPES = {"serial", "bigserial"}

# Composite primary keys the doc asks for in its notes (or implies for join tables).
COMPOSITE_PKS: dict[str, set[str]] = {
    "blocked_users": {"blocker_user_id", "blocked_user_id"},
    "social_connections": {"sharer_profile_id", "receiver_profile_id", "social_link_id"},
    "profile_interests": {"profile_id", "interest_id"},
    "conversation_participants": {"conversation_id", "profile_id"},
}


@dataclass(frozen=True)
class DocColumn:
    name: str
    type: str | None  # None when the doc's row is cut off before the type
    description: str


_HEADING = re.compile(r"^#{2,6}\s+(.+)$")
_TABLE_TITLE = re.compile(r"^`(\w+)`(?:\s+Table)?$")
_ROW = re.compile(r"^\|\s*`(\w+)`\s*\|(.*)$")
_INDEX_LINK = re.compile(r"\(#(\w+)-table\)")


def parse_data_models(text: str) -> dict[str, list[DocColumn]]:
    """Map each documented table to its documented columns, in doc order.

    Tables the doc's index links to but whose section is missing (the doc is
    cut off at the end) are included with no columns.
    """
    tables: dict[str, list[DocColumn]] = {}
    current: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if heading := _HEADING.match(line):
            title = _TABLE_TITLE.match(heading.group(1).strip())
            current = title.group(1) if title else None
            if current:
                tables.setdefault(current, [])
        elif current and (row := _ROW.match(line)):
            cells = [cell.strip() for cell in row.group(2).split("|")]
            doc_type = cells[0].strip("`").strip().lower() if cells else ""
            description = cells[1] if len(cells) > 1 else ""
            tables[current].append(DocColumn(row.group(1), doc_type or None, description))
    for name in _INDEX_LINK.findall(text):
        tables.setdefault(name, [])
    return tables


def documented_tables() -> dict[str, list[DocColumn]]:
    return parse_data_models(DOC.read_text(encoding="utf-8"))


def test_parser_reads_every_section() -> None:
    tables = documented_tables()
    assert len(tables) >= 30, sorted(tables)
    users = {c.name: c.type for c in tables["users"]}
    assert users["user_number"] == "bigserial"
    assert users["created_at"] == "timestampz"
    assert [c.name for c in tables["messages"]] == [
        "id",
        "conversation_id",
        "sender_profile_id",
        "content",
        "created_at",
    ]
    assert "order" in {c.name for c in tables["event_itinerary_stops"]}
    # The source was cut off in the notifications section; our design completes it.
    assert {"token", "is_active", "last_used_at"} <= {
        c.name for c in tables["push_notification_tokens"]
    }
    assert "category" in {c.name for c in tables["user_notification_settings"]}
    for table in ("notifications", "notification_deliveries", "push_tickets", "notification_sms"):
        assert tables[table], table
    unknown = {c.type for cols in tables.values() for c in cols} - set(PG_TYPES) - {None}
    assert not unknown, f"doc uses types this test can't map: {unknown}"


async def test_every_documented_column_exists_with_a_compatible_type(
    db_conn: asyncpg.Connection,
) -> None:
    existing_tables = {
        r["table_name"]
        for r in await db_conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    }
    columns = {
        (r["table_name"], r["column_name"]): r
        for r in await db_conn.fetch(
            "SELECT table_name, column_name, data_type, udt_name, column_default"
            " FROM information_schema.columns WHERE table_schema = current_schema()"
        )
    }

    problems: list[str] = []
    for table, doc_columns in documented_tables().items():
        if table not in existing_tables:
            problems.append(f"missing table {table}")
            continue
        for col in doc_columns:
            actual = columns.get((table, col.name))
            if actual is None:
                problems.append(f"missing column {table}.{col.name}")
                continue
            if col.type is None:
                continue
            want = PG_TYPES[col.type]
            got = (actual["data_type"], actual["udt_name"])
            if got != want:
                problems.append(f"{table}.{col.name}: doc says {col.type} {want}, db has {got}")
            if col.type in SERIAL_TYPES and not (actual["column_default"] or "").startswith(
                "nextval("
            ):
                problems.append(f"{table}.{col.name}: {col.type} without a sequence default")
    assert not problems, "\n".join(problems)


async def test_primary_keys(db_conn: asyncpg.Connection) -> None:
    rows = await db_conn.fetch(
        """
        SELECT t.relname AS table_name, array_agg(a.attname::text ORDER BY k.ord) AS columns
        FROM pg_constraint c
        JOIN pg_class t ON t.oid = c.conrelid
        CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
        WHERE c.contype = 'p' AND t.relnamespace = current_schema()::regnamespace
        GROUP BY t.relname
        """
    )
    pks = {r["table_name"]: set(r["columns"]) for r in rows}

    problems: list[str] = []
    for table, doc_columns in documented_tables().items():
        actual = pks.get(table)
        if actual is None:
            problems.append(f"{table}: no primary key")
            continue
        # Composite keys come from the doc's notes; otherwise the doc marks a
        # column "Primary Key" (the cut-off tables mark none: any key will do).
        want = COMPOSITE_PKS.get(table) or {
            c.name for c in doc_columns if c.description.startswith("Primary Key")
        }
        if want and actual != want:
            problems.append(f"{table}: primary key {sorted(actual)}, expected {sorted(want)}")
    assert not problems, "\n".join(problems)


async def test_first_support_ticket_number_is_1001(db_conn: asyncpg.Connection) -> None:
    assert await db_conn.fetchval("SELECT count(*) FROM support_tickets") == 0, (
        "expected a fresh database with no support tickets"
    )
    user_id = await db_conn.fetchval(
        "INSERT INTO users (phone_number) VALUES ($1) RETURNING id",
        f"+1202{uuid.uuid4().int % 10**7:07d}",
    )
    insert_ticket = (
        "INSERT INTO support_tickets (submitter_user_id, category, body)"
        " VALUES ($1, 'technical_issue', $2) RETURNING ticket_number"
    )
    assert await db_conn.fetchval(insert_ticket, user_id, "first") == 1001
    assert await db_conn.fetchval(insert_ticket, user_id, "second") == 1002

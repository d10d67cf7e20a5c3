"""Read the ``oauth2_provider_*`` tables back from the database, as plain JSON-ready data.

Two sources per table: Django's introspection (``get_constraints``: indexes, unique, primary and foreign
keys, checks, with their names), and the backend's own catalog (column types as the server spells them,
nullability, defaults, and the server's rendering of each table, index, constraint and trigger), which catches
what Django's view leaves out, such as opclasses, deferrability or referential actions.
"""

TABLE_PREFIX = "oauth2_provider_"


def _rows_as_dicts(cursor, sql, params):
    cursor.execute(sql, params)
    names = [column[0].lower() for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _keyed(rows, key):
    return {row.pop(key): row for row in rows}


def _sqlite_catalog(cursor, table):
    cursor.execute(f'PRAGMA table_info("{table}")')
    columns = {
        name: {"position": position, "type": type_, "not_null": bool(not_null), "default": default, "pk": pk}
        for position, name, type_, not_null, default, pk in cursor.fetchall()
    }
    cursor.execute(f'PRAGMA foreign_key_list("{table}")')
    foreign_keys = sorted(
        [
            {"from": row[3], "table": row[2], "to": row[4], "on_update": row[5], "on_delete": row[6]}
            for row in cursor
        ],
        key=lambda fk: fk["from"],
    )
    sql = "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = %s ORDER BY type, name"
    definitions = {f"{row['type']} {row['name']}": row["sql"] for row in _rows_as_dicts(cursor, sql, [table])}
    return {"columns": columns, "foreign_key_actions": foreign_keys, "definitions": definitions}


def _postgres_catalog(cursor, table):
    columns = _rows_as_dicts(
        cursor,
        """
        SELECT a.attname AS name, a.attnum AS position, format_type(a.atttypid, a.atttypmod) AS type,
               a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default,
               a.attidentity AS identity, c.collname AS collation
        FROM pg_attribute a
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation c ON c.oid = a.attcollation AND a.attcollation <> 0
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        [table],
    )
    constraints = _rows_as_dicts(
        cursor,
        "SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE conrelid = %s::regclass",
        [table],
    )
    indexes = _rows_as_dicts(
        cursor,
        "SELECT indexname AS name, indexdef AS definition FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = %s",
        [table],
    )
    triggers = _rows_as_dicts(
        cursor,
        "SELECT tgname AS name, pg_get_triggerdef(oid) AS definition FROM pg_trigger "
        "WHERE tgrelid = %s::regclass AND NOT tgisinternal",
        [table],
    )
    return {
        "columns": _keyed(columns, "name"),
        "constraint_definitions": {row["name"]: row["definition"] for row in constraints},
        "index_definitions": {row["name"]: row["definition"] for row in indexes},
        "trigger_definitions": {row["name"]: row["definition"] for row in triggers},
    }


def _mysql_catalog(cursor, table):
    columns = _rows_as_dicts(
        cursor,
        """
        SELECT column_name AS name, ordinal_position AS position, column_type AS type,
               is_nullable AS nullable, column_default AS `default`, extra,
               character_set_name AS charset, collation_name AS collation
        FROM information_schema.columns
        WHERE table_schema = DATABASE() AND table_name = %s
        """,
        [table],
    )
    foreign_keys = _rows_as_dicts(
        cursor,
        """
        SELECT constraint_name AS name, referenced_table_name AS target, update_rule, delete_rule
        FROM information_schema.referential_constraints
        WHERE constraint_schema = DATABASE() AND table_name = %s
        """,
        [table],
    )
    options = _rows_as_dicts(
        cursor,
        "SELECT engine, table_collation AS collation FROM information_schema.tables "
        "WHERE table_schema = DATABASE() AND table_name = %s",
        [table],
    )
    triggers = _rows_as_dicts(
        cursor,
        "SELECT trigger_name AS name, action_timing AS timing, event_manipulation AS event, "
        "action_statement AS statement FROM information_schema.triggers "
        "WHERE event_object_schema = DATABASE() AND event_object_table = %s",
        [table],
    )
    cursor.execute(f"SHOW CREATE TABLE `{table}`")
    return {
        "columns": _keyed(columns, "name"),
        "foreign_key_actions": _keyed(foreign_keys, "name"),
        "triggers": _keyed(triggers, "name"),
        "table_options": options[0],
        "create_table": cursor.fetchone()[1],
    }


CATALOG_READERS = {"sqlite": _sqlite_catalog, "postgresql": _postgres_catalog, "mysql": _mysql_catalog}


def _django_constraints(connection, cursor, table):
    """``get_constraints`` with tuples turned into lists, so it round-trips through JSON unchanged."""
    constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: {key: list(value) if isinstance(value, tuple) else value for key, value in details.items()}
        for name, details in constraints.items()
    }


def dump_schema(connection):
    """Return ``{table: {"constraints": ..., "catalog": ...}}`` for every ``oauth2_provider_*`` table."""
    read_catalog = CATALOG_READERS[connection.vendor]
    with connection.cursor() as cursor:
        tables = sorted(
            name for name in connection.introspection.table_names(cursor) if name.startswith(TABLE_PREFIX)
        )
        return {
            table: {
                "constraints": _django_constraints(connection, cursor, table),
                "catalog": read_catalog(cursor, table),
            }
            for table in tables
        }

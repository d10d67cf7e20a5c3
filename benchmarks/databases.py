"""Per-vendor database work of the benchmarks: the snapshots, their copies, the bulk rows, the checks.

Everything here talks to the database through its DB-API driver, not through Django: the parent
process never configures Django, and every statement is visible in one place. Each vendor class only
knows its SQL; the order of the steps lives in ``snapshots.py`` and the scenario modules.
"""

import hashlib
import shutil
import sqlite3
from pathlib import Path

from oauth2_provider._checksum import token_checksum


TOKEN_TABLE = "oauth2_provider_accesstoken"
TOKEN_COLUMNS = "token, expires, scope, created, updated, application_id, user_id"

# Every token is generated from its row number i by one formula, in SQL on PostgreSQL and MariaDB and
# in Python on SQLite, so the three backends hold identical strings: mostly ~30-40 ASCII characters,
# one row in a thousand with multi-byte characters (a 4-byte emoji included), one in a thousand of the
# 255 characters the 0011 column allows.
NON_ASCII_EVERY, NON_ASCII_AT = 1000, 7
LONG_EVERY, LONG_AT = 1000, 13
NON_ASCII_PREFIX = "bénch-ключ-🔑-"
TIMESTAMP = "2025-01-01 00:00:00"
EXPIRES = "2025-01-02 00:00:00"
SCOPE = "read write"

# The cleartokens scenario: a table at 0012 where two rows in a hundred are still valid (one of them
# with a refresh token) and every other row expired long ago; every even id has a refresh token.
REFRESH_TOKEN_TABLE = "oauth2_provider_refreshtoken"
# Ids are given explicitly (= the row number): MySQL may leave gaps in AUTO_INCREMENT over INSERT ... SELECT.
CLEARTOKENS_COLUMNS = "id, token, token_checksum, expires, scope, created, updated, application_id, user_id"
LIVE_EVERY, LIVE_BELOW = 100, 2
LIVE_EXPIRES = "2099-01-01 00:00:00"


def cleartokens_survivors(rows):
    """(access token ids, access token ids of refresh tokens) that a correct cleartokens keeps."""
    live = [i for i in range(1, rows + 1) if i % LIVE_EVERY < LIVE_BELOW]
    return live, [i for i in live if i % 2 == 0]


def token_for_row(i):
    """Token string of row ``i``; the SQL versions in the vendor classes below compute the same value."""
    digest = hashlib.md5(str(i).encode()).hexdigest()
    if i % NON_ASCII_EVERY == NON_ASCII_AT:
        return f"{NON_ASCII_PREFIX}{digest[:16]}-{i}"
    if i % LONG_EVERY == LONG_AT:
        return (f"bench-long-{i}-" + digest * 8)[:255]
    return f"bench-{digest[:24]}-{i}"


class Database:
    """A vendor's snapshot database (``<name>``) and the working copy each contender migrates."""

    vendor = ""
    placeholder = "%s"

    def __init__(self, name, host, port, user, password):
        self.base_name = name
        self.work_name = f"{name}_work"
        # Every copy of the snapshot made (``copy_base``), for ``drop_all``.
        self.copies = {self.work_name}
        self.host, self.port, self.user, self.password = host, port, user, password

    def new_copy(self, name):
        """The name of a copy of the snapshot about to be made (``work_name`` by default), remembered."""
        name = name or self.work_name
        self.copies.add(name)
        return name

    def child_vars(self, database_name):
        """``BENCH_*`` variables that point a child's settings at ``database_name``."""
        return {
            "BENCH_DB_VENDOR": self.vendor,
            "BENCH_DB_NAME": database_name,
            "BENCH_DB_HOST": self.host,
            "BENCH_DB_PORT": str(self.port),
            "BENCH_DB_USER": self.user,
            "BENCH_DB_PASSWORD": self.password,
        }

    def insert_owner(self, cursor):
        """Insert the one user and the one application that own every token; return their ids."""
        p = self.placeholder
        cursor.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,"
            f" is_staff, is_active, date_joined) VALUES ({p}, {p}, {p}, '', '', '', {p}, {p}, {p})",
            ("!", False, "bench", False, True, TIMESTAMP),
        )
        user_id = self.last_id(cursor, "auth_user")
        cursor.execute(
            "INSERT INTO oauth2_provider_application (client_id, user_id, redirect_uris,"
            " post_logout_redirect_uris, allowed_origins, client_type, authorization_grant_type,"
            " client_secret, hash_client_secret, name, skip_authorization, created, updated, algorithm)"
            f" VALUES ({p}, {p}, '', '', '', 'confidential', 'client-credentials', '', {p}, 'bench',"
            f" {p}, {p}, {p}, '')",
            ("bench-client", user_id, True, False, TIMESTAMP, TIMESTAMP),
        )
        return user_id, self.last_id(cursor, "oauth2_provider_application")

    def last_id(self, cursor, table):
        """Primary key of the row just inserted into ``table`` by ``cursor``."""
        return cursor.lastrowid

    def verify_sql(self):
        """One row: (rows in the token table, rows whose checksum is not sha256 of the token)."""
        raise NotImplementedError

    #: SQL condition true for the access tokens that get a refresh token.
    even_id_sql = "MOD(id, 2) = 0"
    #: SQL expression of a refresh token's string from its access token's ``id``.
    refresh_token_sql = "'rt-' || id"

    def add_refresh_tokens(self, cursor):
        """Give every access token with an even id a refresh token, in one ``INSERT ... SELECT``."""
        cursor.execute(
            f"INSERT INTO {REFRESH_TOKEN_TABLE} (token, access_token_id, application_id, user_id, created,"
            f" updated) SELECT {self.refresh_token_sql}, id, application_id, user_id, created, updated"
            f" FROM {TOKEN_TABLE} WHERE {self.even_id_sql}"
        )

    def remaining_tokens(self):
        """(access token ids, access token ids of refresh tokens) left in the working copy, sorted."""
        with self.connect(self.work_name) as connection:
            cursor = connection.cursor()
            cursor.execute(f"SELECT id FROM {TOKEN_TABLE} ORDER BY id")
            access_tokens = [row[0] for row in cursor.fetchall()]
            cursor.execute(f"SELECT access_token_id FROM {REFRESH_TOKEN_TABLE} ORDER BY access_token_id")
            refresh_tokens = [row[0] for row in cursor.fetchall()]
        return access_tokens, refresh_tokens

    def verify(self):
        """(rows, mismatched rows, 0012 recorded as applied) in the working copy."""
        with self.connect(self.work_name) as connection:
            cursor = connection.cursor()
            cursor.execute(self.verify_sql())
            rows, bad = cursor.fetchone()
            cursor.execute(
                "SELECT COUNT(*) FROM django_migrations"
                " WHERE app = 'oauth2_provider' AND name = '0012_add_token_checksum'"
            )
            applied = cursor.fetchone()[0] == 1
        return rows, int(bad or 0), applied


class SQLite(Database):
    vendor = "sqlite"
    placeholder = "?"

    def __init__(self, name, directory):
        super().__init__(name, "", "", "", "")
        self.directory = Path(directory)
        self.base_path = self.path(name)

    def path(self, database_name):
        return self.directory / f"{database_name}.sqlite3"

    def child_vars(self, database_name):
        return {**super().child_vars(str(self.path(database_name))), "BENCH_DB_HOST": "", "BENCH_DB_PORT": ""}

    def connect(self, database_name):
        connection = sqlite3.connect(self.path(database_name))
        connection.create_function("sha256_hex", 1, token_checksum, deterministic=True)
        return _Closing(connection)

    def server_version(self):
        return f"SQLite {sqlite3.sqlite_version}"

    def recreate_base(self):
        self.base_path.unlink(missing_ok=True)

    def fill(self, rows):
        """Insert the tokens with ``executemany`` over a generator: no SHA-256 or md5 in SQLite's SQL."""
        with self.connect(self.base_name) as connection:
            cursor = connection.cursor()
            user_id, application_id = self.insert_owner(cursor)
            values = (
                (token_for_row(i), EXPIRES, SCOPE, TIMESTAMP, TIMESTAMP, application_id, user_id)
                for i in range(1, rows + 1)
            )
            cursor.executemany(
                f"INSERT INTO {TOKEN_TABLE} ({TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", values
            )
            connection.commit()
            connection.execute("ANALYZE")

    even_id_sql = "id % 2 = 0"

    def fill_expired(self, rows):
        """The cleartokens scenario's rows (see ``cleartokens_survivors``), through ``executemany``."""
        with self.connect(self.base_name) as connection:
            cursor = connection.cursor()
            user_id, application_id = self.insert_owner(cursor)
            values = (
                (
                    i,
                    f"ct-{i}",
                    token_checksum(f"ct-{i}"),
                    LIVE_EXPIRES if i % LIVE_EVERY < LIVE_BELOW else EXPIRES,
                    SCOPE,
                    TIMESTAMP,
                    TIMESTAMP,
                    application_id,
                    user_id,
                )
                for i in range(1, rows + 1)
            )
            cursor.executemany(
                f"INSERT INTO {TOKEN_TABLE} ({CLEARTOKENS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            self.add_refresh_tokens(cursor)
            connection.commit()
            connection.execute("ANALYZE")

    def copy_base(self, name=None):
        shutil.copyfile(self.base_path, self.path(self.new_copy(name)))

    def drop_all(self):
        for name in (*self.copies, self.base_name):
            self.path(name).unlink(missing_ok=True)

    def verify_sql(self):
        return (
            "SELECT COUNT(*), SUM(token_checksum IS NULL OR token_checksum <> sha256_hex(token))"
            f" FROM {TOKEN_TABLE}"
        )


class PostgreSQL(Database):
    vendor = "postgres"

    def connect(self, database_name):
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=database_name,
            autocommit=True,
        )

    def server_version(self):
        with self.connect("postgres") as connection:
            return f"PostgreSQL {connection.execute('SHOW server_version').fetchone()[0]}"

    def recreate_base(self):
        with self.connect("postgres") as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.base_name}" WITH (FORCE)')
            connection.execute(f"CREATE DATABASE \"{self.base_name}\" ENCODING 'UTF8' TEMPLATE template0")

    def last_id(self, cursor, table):
        cursor.execute(f"SELECT currval(pg_get_serial_sequence('{table}', 'id'))")
        return cursor.fetchone()[0]

    def fill(self, rows):
        """One ``INSERT ... SELECT`` over ``generate_series``, then VACUUM ANALYZE.

        VACUUM sets hint bits and the visibility map now, so that no contender pays for them.
        """
        with self.connect(self.base_name) as connection:
            cursor = connection.cursor()
            user_id, application_id = self.insert_owner(cursor)
            cursor.execute(
                f"INSERT INTO {TOKEN_TABLE} ({TOKEN_COLUMNS})"
                f" SELECT CASE"
                f"  WHEN MOD(i, {NON_ASCII_EVERY}) = {NON_ASCII_AT}"
                f"   THEN %s || substr(md5(i::text), 1, 16) || '-' || i"
                f"  WHEN MOD(i, {LONG_EVERY}) = {LONG_AT}"
                f"   THEN rpad('bench-long-' || i || '-', 255, md5(i::text))"
                f"  ELSE 'bench-' || substr(md5(i::text), 1, 24) || '-' || i END,"
                f" %s, %s, %s, %s, %s, %s FROM generate_series(1, %s) AS i",
                (NON_ASCII_PREFIX, EXPIRES, SCOPE, TIMESTAMP, TIMESTAMP, application_id, user_id, rows),
            )
            cursor.execute("VACUUM (FREEZE, ANALYZE)")

    def fill_expired(self, rows):
        """The cleartokens scenario's rows (see ``cleartokens_survivors``) from ``generate_series``."""
        with self.connect(self.base_name) as connection:
            cursor = connection.cursor()
            user_id, application_id = self.insert_owner(cursor)
            cursor.execute(
                f"INSERT INTO {TOKEN_TABLE} ({CLEARTOKENS_COLUMNS})"
                " SELECT i, 'ct-' || i, encode(sha256(convert_to('ct-' || i, 'UTF8')), 'hex'),"
                f" CASE WHEN MOD(i, {LIVE_EVERY}) < {LIVE_BELOW}"
                " THEN %s::timestamptz ELSE %s::timestamptz END,"
                " %s, %s, %s, %s, %s FROM generate_series(1, %s) AS i",
                (LIVE_EXPIRES, EXPIRES, SCOPE, TIMESTAMP, TIMESTAMP, application_id, user_id, rows),
            )
            # The ids were given explicitly: move the sequence past them, for scenarios that insert tokens.
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{TOKEN_TABLE}', 'id'), %s)", (rows,))
            self.add_refresh_tokens(cursor)
            cursor.execute("VACUUM (FREEZE, ANALYZE)")

    def copy_base(self, name=None):
        """``CREATE DATABASE ... TEMPLATE``: a file-level copy of the snapshot, indexes and statistics."""
        name = self.new_copy(name)
        with self.connect("postgres") as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.base_name}"')

    def drop_all(self):
        with self.connect("postgres") as connection:
            for name in (*self.copies, self.base_name):
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def verify_sql(self):
        return (
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE token_checksum IS DISTINCT FROM"
            f" encode(sha256(convert_to(token, 'UTF8')), 'hex')) FROM {TOKEN_TABLE}"
        )


class MySQL(Database):
    vendor = "mysql"
    # Rows per INSERT ... SELECT: bounds the undo log of one statement and the recursion of its CTE.
    CHUNK = 100_000

    def connect(self, database_name):
        import MySQLdb

        connection = MySQLdb.connect(
            host=self.host, port=int(self.port), user=self.user, password=self.password, charset="utf8mb4"
        )
        if database_name:
            connection.select_db(database_name)
        connection.autocommit(True)
        return _Closing(connection)

    def server_version(self):
        with self.connect(None) as connection:
            return connection.get_server_info()

    def recreate_base(self):
        with self.connect(None) as connection:
            cursor = connection.cursor()
            cursor.execute(f"DROP DATABASE IF EXISTS `{self.base_name}`")
            cursor.execute(
                f"CREATE DATABASE `{self.base_name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )

    def fill(self, rows):
        """Chunks of ``INSERT ... SELECT`` over a recursive CTE counting from ``low`` to ``high``."""
        with self.connect(self.base_name) as connection:
            cursor = connection.cursor()
            user_id, application_id = self.insert_owner(cursor)
            self._insert_generated(
                connection,
                rows,
                TOKEN_COLUMNS,
                "CASE"
                f"  WHEN MOD(i, {NON_ASCII_EVERY}) = {NON_ASCII_AT}"
                "   THEN CONCAT(%s, SUBSTRING(MD5(i), 1, 16), '-', i)"
                f"  WHEN MOD(i, {LONG_EVERY}) = {LONG_AT}"
                "   THEN RPAD(CONCAT('bench-long-', i, '-'), 255, MD5(i))"
                "  ELSE CONCAT('bench-', SUBSTRING(MD5(i), 1, 24), '-', i) END,"
                " %s, %s, %s, %s, %s, %s",
                (NON_ASCII_PREFIX, EXPIRES, SCOPE, TIMESTAMP, TIMESTAMP, application_id, user_id),
            )
            cursor.execute(f"ANALYZE TABLE {TOKEN_TABLE}")
            cursor.fetchall()

    refresh_token_sql = "CONCAT('rt-', id)"

    def fill_expired(self, rows):
        """The cleartokens scenario's rows (see ``cleartokens_survivors``) from a recursive CTE."""
        with self.connect(self.base_name) as connection:
            cursor = connection.cursor()
            user_id, application_id = self.insert_owner(cursor)
            self._insert_generated(
                connection,
                rows,
                CLEARTOKENS_COLUMNS,
                "i, CONCAT('ct-', i), SHA2(CONCAT('ct-', i), 256),"
                f" CASE WHEN MOD(i, {LIVE_EVERY}) < {LIVE_BELOW} THEN %s ELSE %s END, %s, %s, %s, %s, %s",
                (LIVE_EXPIRES, EXPIRES, SCOPE, TIMESTAMP, TIMESTAMP, application_id, user_id),
            )
            self.add_refresh_tokens(cursor)
            for table in (TOKEN_TABLE, REFRESH_TOKEN_TABLE):
                cursor.execute(f"ANALYZE TABLE {table}")
                cursor.fetchall()

    def _insert_generated(self, connection, rows, columns, select_list, params):
        """``INSERT INTO`` the token table ``columns`` ``SELECT select_list`` for i = 1..rows.

        Chunks of ``CHUNK`` rows, each counted by a recursive CTE; ``params`` fill ``select_list``.
        """
        cursor = connection.cursor()
        mariadb = "mariadb" in connection.get_server_info().lower()
        depth_variable = "max_recursive_iterations" if mariadb else "cte_max_recursion_depth"
        cursor.execute(f"SET SESSION {depth_variable} = %s", (self.CHUNK + 1,))
        for low in range(1, rows + 1, self.CHUNK):
            high = min(low + self.CHUNK - 1, rows)
            cursor.execute(
                f"INSERT INTO {TOKEN_TABLE} ({columns})"
                " WITH RECURSIVE seq (i) AS (SELECT %s UNION ALL SELECT i + 1 FROM seq WHERE i < %s)"
                f" SELECT {select_list} FROM seq",
                (low, high, *params),
            )

    def copy_base(self, name=None):
        """Recreate every table from its ``SHOW CREATE TABLE`` (indexes and foreign keys included) and
        copy its rows with ``INSERT ... SELECT``: faster than migrating and generating again."""
        name = self.new_copy(name)
        with self.connect(None) as connection:
            cursor = connection.cursor()
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (self.base_name,)
            )
            tables = [row[0] for row in cursor.fetchall()]
            cursor.execute("SET SESSION foreign_key_checks = 0")
            connection.select_db(name)
            for table in tables:
                cursor.execute(f"SHOW CREATE TABLE `{self.base_name}`.`{table}`")
                cursor.execute(cursor.fetchone()[1])
                cursor.execute(f"INSERT INTO `{table}` SELECT * FROM `{self.base_name}`.`{table}`")
            cursor.execute(f"ANALYZE TABLE {TOKEN_TABLE}")
            cursor.fetchall()

    def drop_all(self):
        with self.connect(None) as connection:
            cursor = connection.cursor()
            for name in (*self.copies, self.base_name):
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")

    def verify_sql(self):
        # BINARY: the column's collation is case-insensitive, the check must not be.
        return (
            "SELECT COUNT(*), SUM(token_checksum IS NULL OR"
            f" CAST(token_checksum AS BINARY) <> CAST(SHA2(token, 256) AS BINARY)) FROM {TOKEN_TABLE}"
        )


class _Closing:
    """Context manager that closes a DB-API connection (sqlite3's and MySQLdb's only commit or not)."""

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        return self.connection

    def __exit__(self, *exc_info):
        self.connection.close()


DEFAULTS = {
    "postgres": {"host": "127.0.0.1", "port": 5432, "user": "postgres"},
    "mysql": {"host": "127.0.0.1", "port": 3306, "user": "root"},
}


def open_database(vendor, name, directory, host=None, port=None, user=None, password=""):
    """The vendor class for ``--db``, with the server defaults of this project's test setup."""
    if vendor == "sqlite":
        return SQLite(name, directory)
    defaults = DEFAULTS[vendor]
    cls = PostgreSQL if vendor == "postgres" else MySQL
    return cls(
        name, host or defaults["host"], port or defaults["port"], user or defaults["user"], password or ""
    )

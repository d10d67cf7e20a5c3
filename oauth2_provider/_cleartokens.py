"""The work behind ``clear_expired()`` / ``manage.py cleartokens``: bounded, set-based deletes.

Each token table is walked by primary key in windows of ``CLEAR_EXPIRED_TOKENS_BATCH_SIZE`` rows
(the window's end is probed in the primary key index, so the cost of a window does not depend on how
much of the table is left, and nothing is ever counted). Every window is deleted in one transaction,
which commits before the next window: an interrupted run keeps what it finished, leaves no
half-deleted batch, and a re-run resumes.

Deleting a batch does what Django's deletion collector would do, without loading model instances:
references to the batch from ``SET_NULL`` foreign keys are cleared, rows of ``CASCADE`` foreign keys
are deleted first (recursively), then the batch itself. Usually no other row can point into a window
(the condition excludes rows that have referrers, or no foreign key value falls in the window's
primary key range); then a single ``DELETE`` selects and deletes the window's expired rows in the
database. Otherwise their primary keys are selected first and the referrers handled by primary key.
Where that would skip something the collector does (``pre_delete``/``post_delete`` receivers,
``PROTECT`` and other ``on_delete`` handlers, generic relations, multi-table inheritance), the batch is
deleted through the ORM instead, receivers included.

Which rows go is upstream 3.4.1's choice (upstream #746): refresh tokens left without an access token,
as nothing can use them; revoked ones once the grace period is over, or with
``REFRESH_TOKEN_REUSE_PROTECTION`` (which needs them to recognise a replay) once the refresh token
lifetime is; live ones once that lifetime has passed since their access token expired.
"""

import logging

from django.db import connections, models, router, transaction
from django.db.models import signals
from django.utils import timezone

from ._batching import KeysetWalk, batching_setting
from ._refresh_tokens import refresh_token_grace_period, refresh_token_lifetime
from .settings import oauth2_settings


# A documented logger name (docs/upgrading.rst), spelled out so that it does not follow a module's name.
logger = logging.getLogger("oauth2_provider._cleartokens")


def refresh_token_cutoff(now):
    """``now`` minus ``REFRESH_TOKEN_EXPIRE_SECONDS``, or None when refresh tokens never expire."""
    lifetime = refresh_token_lifetime()
    return None if lifetime is None else now - lifetime


def retention_warning():
    """What ``cleartokens`` cannot delete because refresh tokens never expire, or None (upstream #522).

    Without ``REFRESH_TOKEN_EXPIRE_SECONDS`` a live refresh token is kept forever, and so is its
    expired access token (and that token's ID token), which the refresh token still points to. With
    reuse protection the revoked refresh tokens stay as well: one row per refresh, for good.
    """
    if refresh_token_lifetime() is not None:
        return None
    kept = (
        "refresh tokens that are not revoked, with their expired access and ID tokens, are kept for as "
        "long as they exist"
    )
    if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION:
        kept += "; with REFRESH_TOKEN_REUSE_PROTECTION, so is every revoked refresh token (one per refresh)"
    return (
        f"REFRESH_TOKEN_EXPIRE_SECONDS is not set (or is 0): {kept}. Only revoked refresh tokens past the "
        "grace period, refresh tokens without an access token, and expired tokens and grants that nothing "
        "refers to are deleted. Set REFRESH_TOKEN_EXPIRE_SECONDS to bound the tables."
    )


def clear_expired_steps(access_token_model, refresh_token_model, id_token_model, grant_model):
    """Delete expired rows table by table; yield ``(log message, argument)`` after each step.

    The order matters, as in DOT 3.0.1: deleting refresh tokens frees their access tokens, and
    deleting access tokens frees their ID tokens, for the steps that follow.
    """
    now = timezone.now()
    cutoff = refresh_token_cutoff(now)
    revoked_cutoff = (
        cutoff if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION else now - refresh_token_grace_period()
    )
    if revoked_cutoff:
        yield (
            "%s Revoked refresh tokens deleted",
            delete_matching(refresh_token_model, models.Q(revoked__lte=revoked_cutoff)),
        )
    else:
        # Reuse protection without a lifetime: revoked refresh tokens are what recognises a replay.
        yield "refresh_revoked_at is %s. No revoked refresh tokens deleted.", None
    yield (
        "%s Orphaned refresh tokens deleted",
        delete_matching(refresh_token_model, models.Q(revoked__isnull=True, access_token__isnull=True)),
    )
    if cutoff:
        yield (
            "%s Expired refresh tokens deleted",
            delete_matching(
                refresh_token_model, models.Q(revoked__isnull=True, access_token__expires__lte=cutoff)
            ),
        )
    else:
        yield "refresh_expire_at is %s. No expired refresh tokens deleted.", None
    without_refresh_token = _reverse_query_name(refresh_token_model, "access_token") + "__isnull"
    yield (
        "%s Expired access tokens deleted",
        delete_matching(access_token_model, models.Q(expires__lt=now, **{without_refresh_token: True})),
    )
    without_access_token = _reverse_query_name(access_token_model, "id_token") + "__isnull"
    yield (
        "%s Expired ID tokens deleted",
        delete_matching(id_token_model, models.Q(expires__lt=now, **{without_access_token: True})),
    )
    yield "%s Expired grant tokens deleted", delete_matching(grant_model, models.Q(expires__lt=now))


def _reverse_query_name(model, field_name):
    """The name by which the model ``field_name`` points to filters back to ``model``'s rows."""
    return model._meta.get_field(field_name).related_query_name()


def delete_matching(model, condition):
    """Delete ``model``'s rows matching ``condition``, a committed batch per window; return how many."""
    using = router.db_for_write(model)
    deletion = DELETIONS.get(connections[using].vendor, ExpiredRowsDeletion)
    return deletion(model, condition, using).run()


class ExpiredRowsDeletion(KeysetWalk):
    """Deletes the rows of ``model`` matching ``condition``, each window in a transaction of its own.

    This class owns the windows and chooses how each is deleted; a subclass per database only knows
    its SQL (:meth:`start_window`, :meth:`delete_window`).
    """

    logger = logger
    verb = "deleted"
    # The upstream summary line ("N Expired ... deleted") is the one users see at INFO.
    summary_level = logging.DEBUG

    def __init__(self, model, condition, using):
        self.using = using
        super().__init__(model, connections[using], batching_setting("CLEAR_EXPIRED_TOKENS_BATCH_SIZE"))
        self.pause = batching_setting("CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL")
        self.set_based = deletes_set_based(model)
        self.delete = _delete_set_based if self.set_based else _delete_with_orm
        relations = _reverse_relations(model)
        unreferenced = _required_unreferenced(condition, relations)
        # The foreign keys whose rows the delete must clear or cascade to. Not those the condition
        # requires to point to none of the rows (``refresh_token__isnull=True`` for access tokens).
        self.referrers = [
            relation
            for relation in relations
            if relation.on_delete is not models.DO_NOTHING and relation not in unreferenced
        ]
        self.unreferenced = unreferenced
        self.condition = _without(condition, map(_unreferenced, unreferenced))

    def process_window(self, lower, upper):
        """Delete, in one transaction, the matching rows with lower < pk <= upper; return how many."""
        rows = self.model._default_manager.using(self.using).filter(
            self.condition, *(_not_pointed_to(relation, lower, upper) for relation in self.unreferenced)
        )
        if lower is not None:
            rows = rows.filter(pk__gt=lower)
        if upper is not None:
            rows = rows.filter(pk__lte=upper)
        with transaction.atomic(using=self.using):
            self.start_window(rows)
            if self.set_based and not self.may_be_referenced(lower, upper):
                return self.delete_window(rows, lower, upper)
            pks = list(rows.values_list("pk", flat=True))
            if pks:
                self.delete(self.model, self.using, pks)
        return len(pks)

    def may_be_referenced(self, lower, upper):
        """Whether a row of a referring table holds a foreign key inside the window ``(lower, upper]``.

        One probe per foreign key, answered from its index; it usually finds nothing, and then no
        primary key of the window needs to leave the database.
        """
        return any(
            _pointing_into(relation, lower, upper).using(self.using).exists() for relation in self.referrers
        )

    def start_window(self, rows):
        """Runs first in each window's transaction; ``rows`` are the window's matching rows."""

    def delete_window(self, rows, lower, upper):
        """Delete ``rows`` (a window's matching rows, referred to by no other row) in one statement.

        Django's own fast-delete statement, as ``QuerySet.delete()`` runs it when nothing cascades:
        a plain ``DELETE ... WHERE`` when the condition needs no join, ``DELETE ... WHERE pk IN
        (SELECT ...)`` on SQLite and ``DELETE t FROM t JOIN ...`` on MySQL/MariaDB otherwise.
        """
        return rows._raw_delete(self.using)


class PostgreSQLExpiredRowsDeletion(ExpiredRowsDeletion):
    """PostgreSQL: a window's joins as index lookups, its delete through the primary key range."""

    def prepare(self):
        # Planner settings made with SET LOCAL last until the end of the transaction: a walk running
        # inside a caller's transaction would hand them on to the caller, so it leaves them alone.
        self.plan_windows = not self.connection.in_atomic_block

    def start_window(self, rows):
        """When ``rows`` need a join, plan this window's statements with nested loops, until its commit.

        A window bounds the driving side of every join to a batch of rows, each matched through an
        index, but the planner does not know it and hashes the whole other table instead: for the
        refresh tokens, a scan of every access token in every window (measured at a million rows:
        about ten times the cost of deleting the window).
        """
        if self.plan_windows and len(rows.query.alias_map) > 1:
            self._execute(
                "SELECT set_config('enable_hashjoin', 'off', true),"
                " set_config('enable_mergejoin', 'off', true)"
            )

    def delete_window(self, rows, lower, upper):
        """With a join, ``DELETE`` in the window's pk range where the pk is one of the selected ones.

        ``pk = ANY(ARRAY(SELECT ...))`` computes the selection once and deletes through the primary
        key index; Django's ``pk IN (SELECT ...)`` is planned as a join of the table with itself.
        """
        if len(rows.query.alias_map) == 1:
            return super().delete_window(rows, lower, upper)
        selected, params = rows.values("pk").query.get_compiler(self.using).as_sql()
        conditions, range_params = self.pk_range(lower, upper)
        where = " AND ".join([*conditions, f"{self.pk} = ANY(ARRAY({selected}))"])
        rowcount, _ = self._execute(f"DELETE FROM {self.table} WHERE {where}", [*range_params, *params])
        return rowcount


DELETIONS = {"postgresql": PostgreSQLExpiredRowsDeletion}


def _unreferenced(relation):
    """The condition child ``<relation>__isnull=True``: no row of the reverse ``relation`` points here."""
    return (f"{relation.field.related_query_name()}__isnull", True)


def _required_unreferenced(condition, relations):
    """The reverse ``relations`` that ``condition``, a plain AND, requires to point to none of the rows.

    The access token and ID token conditions of :func:`clear_expired_steps` require it of the refresh
    token and of the access token.
    """
    if condition.negated or condition.connector != models.Q.AND:
        return []
    return [relation for relation in relations if _unreferenced(relation) in condition.children]


def _without(condition, lookups):
    """``condition`` without its children equal to one of ``lookups`` (compared: a value may be a list)."""
    lookups = list(lookups)
    if not lookups:
        return condition
    return models.Q(*(child for child in condition.children if child not in lookups))


def _pointing_into(relation, lower, upper):
    """The rows of the reverse ``relation`` whose foreign key lies in ``(lower, upper]`` (None: open)."""
    column = relation.field.attname
    bounds = {f"{column}__isnull": False}
    if lower is not None:
        bounds[f"{column}__gt"] = lower
    if upper is not None:
        bounds[f"{column}__lte"] = upper
    return relation.related_model._base_manager.filter(**bounds)


def _not_pointed_to(relation, lower, upper):
    """``<relation>__isnull=True`` for the rows of the window ``(lower, upper]``, without a join.

    ``pk NOT IN`` the foreign keys of the referring rows that point into the window: a range of the
    foreign key's index read once per window and looked up in memory, where the join (or ``NOT
    EXISTS``) probes that index once per row.
    """
    return ~models.Q(pk__in=_pointing_into(relation, lower, upper).values(relation.field.attname))


def _delete_with_orm(model, using, pks):
    model._default_manager.using(using).filter(pk__in=pks).delete()


def _delete_set_based(model, using, pks):
    """Delete rows ``pks`` of ``model`` as the collector would, a few statements per related table.

    The SQL is built from ``_meta`` rather than through querysets: preparing ten thousand lookup
    values per statement in the ORM cost more than the statements themselves.
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    meta = model._meta
    values = [meta.pk.get_db_prep_value(pk, connection) for pk in pks]
    with connection.cursor() as cursor:
        for relation in _reverse_relations(model):
            if relation.on_delete is models.DO_NOTHING:
                continue
            related_meta = relation.related_model._meta
            referencing = _referencing_rows(cursor, connection, relation, meta.pk, values)
            if not referencing:
                continue
            if relation.on_delete is models.SET_NULL:
                pk_column = quote(related_meta.pk.column)
                rows, params = _one_of(connection, pk_column, related_meta.pk, referencing)
                cursor.execute(
                    f"UPDATE {quote(related_meta.db_table)} SET {quote(relation.field.column)} = NULL"
                    f" WHERE {rows}",
                    params,
                )
            else:
                _delete_set_based(relation.related_model, using, referencing)
        batch, params = _one_of(connection, quote(meta.pk.column), meta.pk, values)
        cursor.execute(f"DELETE FROM {quote(meta.db_table)} WHERE {batch}", params)


def _referencing_rows(cursor, connection, relation, pk_field, values):
    """Primary keys of the rows whose foreign key ``relation`` points to one of ``values``.

    Selected first, and then updated or deleted by primary key, rather than with one ``UPDATE ...
    WHERE reference IN (...)``: the usual batch is referenced by no row at all, and SQLite, whose
    statistics count the NULLs of a mostly empty reference column as one huge group of equal
    values, would scan the whole referencing table for that ``UPDATE`` in every batch. A ``SELECT``
    of primary keys is answered from the reference's index alone.
    """
    quote = connection.ops.quote_name
    related_meta = relation.related_model._meta
    referencing, params = _one_of(connection, quote(relation.field.column), pk_field, values)
    cursor.execute(
        f"SELECT {quote(related_meta.pk.column)} FROM {quote(related_meta.db_table)} WHERE {referencing}",
        params,
    )
    return [row[0] for row in cursor.fetchall()]


def _one_of(connection, column, pk_field, values):
    """SQL condition and params for ``column`` (a ``pk_field`` or a reference to it) in ``values``.

    PostgreSQL gets a single array parameter: planning a list of ten thousand placeholders took it
    longer than running the statement. Elsewhere a plain ``IN`` list.
    """
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::{pk_field.rel_db_type(connection)}[])", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def _reverse_relations(model):
    """The foreign keys (and one-to-ones) pointing to ``model``, as the deletion collector sees them."""
    return [
        field
        for field in model._meta.get_fields(include_hidden=True)
        if field.auto_created and not field.concrete and (field.one_to_one or field.one_to_many)
    ]


_SET_BASED_ON_DELETE = (models.CASCADE, models.SET_NULL, models.DO_NOTHING)


def deletes_set_based(model, _visited=None):
    """Whether deleting ``model``'s rows without the ORM does all the collector would do.

    Not when a delete receiver is connected to ``model`` or to a model its deletion cascades to, nor
    when some ``on_delete`` is not CASCADE, SET_NULL or DO_NOTHING, a foreign key targets another
    field than the primary key, the model has a generic relation or inherits from a concrete model.
    """
    visited = set() if _visited is None else _visited
    if model in visited:
        return True
    visited.add(model)
    meta = model._meta
    if signals.pre_delete.has_listeners(model) or signals.post_delete.has_listeners(model):
        return False
    if meta.parents or any(hasattr(field, "bulk_related_objects") for field in meta.private_fields):
        return False
    for relation in _reverse_relations(model):
        if relation.on_delete not in _SET_BASED_ON_DELETE or not relation.field.target_field.primary_key:
            return False
        if relation.on_delete is models.CASCADE and not deletes_set_based(relation.related_model, visited):
            return False
    return True

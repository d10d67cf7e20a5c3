"""Differences between two schema dumps, and their rendering for a human."""

import difflib


MISSING = object()


def differences(upstream, ours, path=()):
    """Yield ``(path, upstream_value, ours_value)`` for every leaf where the two nested values differ.

    A key present on one side only is reported once, at that key, with ``MISSING`` on the other side.
    """
    if isinstance(upstream, dict) and isinstance(ours, dict):
        for key in sorted(upstream.keys() | ours.keys()):
            yield from differences(upstream.get(key, MISSING), ours.get(key, MISSING), (*path, key))
    elif upstream != ours:
        yield path, upstream, ours


def renamed_pairs(found):
    """Pair "only upstream has X" with "only ours has Y" under the same parent when X and Y are equal.

    Django names indexes and constraints from a hash of table and columns, so they should match; when
    they do not, saying "same definition, other name" beats two unrelated-looking lines.
    Returns ``(pairs, rest)``: pairs as ``(parent_path, upstream_name, our_name)``.
    """
    only_upstream = [(path, value) for path, value, other in found if other is MISSING]
    only_ours = [(path, value) for path, other, value in found if other is MISSING]
    pairs, paired = [], set()
    for up_path, up_value in only_upstream:
        for our_path, our_value in only_ours:
            if our_path not in paired and our_path[:-1] == up_path[:-1] and our_value == up_value:
                pairs.append((up_path[:-1], up_path[-1], our_path[-1]))
                paired.update({up_path, our_path})
                break
    rest = [entry for entry in found if entry[0] not in paired]
    return pairs, rest


def _show(value):
    return "(absent)" if value is MISSING else repr(value)


def describe(found):
    """Human-readable lines for the output of ``differences``."""
    pairs, rest = renamed_pairs(found)
    lines = [
        f"  {' > '.join(map(str, parent))}: same definition, named {up_name!r} upstream, {our_name!r} ours"
        for parent, up_name, our_name in pairs
    ]
    for path, upstream, ours in rest:
        where = " > ".join(map(str, path))
        if isinstance(upstream, str) and isinstance(ours, str) and "\n" in upstream + ours:
            diff = difflib.unified_diff(
                upstream.splitlines(), ours.splitlines(), "upstream", "ours", lineterm="", n=1
            )
            lines.append(f"  {where}:")
            lines.extend(f"    {line}" for line in diff)
        else:
            lines.append(f"  {where}: upstream {_show(upstream)}, ours {_show(ours)}")
    return lines

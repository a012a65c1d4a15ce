"""Customer groups: related companies seen together.

A customer's group is its `group_id` when it has one; else the group of its parent
(`parent_id`, followed up the chain); a chain that ends at a parent with no `group_id` is named
after that top parent's id (a parent need not be a customer itself). A customer that is the
parent of others and has no group of its own heads the group named after it. A cycle in
`parent_id` is refused.

`group_positions(store, as_of)` is the one place that adds members up: members, exposure,
overdue, the members' limits, the group's own limit and the worst grade. Monitoring rules and
reports call it rather than summing on their own.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.domain.money import from_cents, money_fields
from riskcli.services import book
from riskcli.services.queries import customers
from riskcli.storage.store import Store

#: grades from best to worst (the scoring defaults, then default)
GRADE_ORDER = ("A", "B", "C", "D", "E", "DF")


def _links(store: Store) -> pd.DataFrame:
    frame: pd.DataFrame = store.query_df(
        "SELECT id, external_id, group_id, parent_id FROM customers "
        "WHERE group_id IS NOT NULL OR parent_id IS NOT NULL OR external_id IN "
        "(SELECT parent_id FROM customers WHERE parent_id IS NOT NULL)"
    )
    return frame


def _resolve(links: pd.DataFrame) -> dict[str, str]:
    """external id -> group, for every customer in a group; InputError on a parent cycle."""
    own = {str(k): (None if pd.isna(g) else str(g)) for k, g in zip(
        links["external_id"], links["group_id"], strict=True)}  # fmt: skip
    parent = {
        str(k): str(p)
        for k, p in zip(links["external_id"], links["parent_id"], strict=True)
        if not pd.isna(p)
    }
    out: dict[str, str] = {}
    for start in own:
        path: list[str] = []
        node = start
        while True:
            if node in out:
                group = out[node]
                break
            if node in path:
                cycle = " -> ".join([*path[path.index(node) :], node])
                raise InputError(f"parent_id cycle: {cycle}")
            path.append(node)
            if own.get(node):
                group = str(own[node])
                break
            if node in parent:
                node = parent[node]
                continue
            group = node  # the top of the chain names the group
            break
        for n in path:
            out[n] = group
    return out


def check_cycles(store: Store) -> None:
    """InputError naming the first cycle in `parent_id`, if any."""
    _resolve(_links(store))


def memberships(store: Store) -> pd.DataFrame:
    """customer pk, external id and group of every customer in a group."""
    links = _links(store)
    groups = _resolve(links)
    frame = links.loc[links["external_id"].astype(str).isin(groups), ["id", "external_id"]]
    frame = frame.assign(group=frame["external_id"].astype(str).map(groups))
    return frame.reset_index(drop=True)


def members_by_group(store: Store) -> dict[str, list[str]]:
    frame = memberships(store)
    return {
        str(g): sorted(map(str, part["external_id"]))
        for g, part in frame.groupby("group", sort=True)
    }


#: up to this many customers are read one by one (each read is small, but the reads add up to
#: one read of the whole book at about this count), more and the whole book is read once
ONE_BY_ONE = 20


def customer_positions(
    store: Store,
    as_of: date,
    policy: book.DefaultPolicy | None = None,
    ids: list[int] | None = None,
) -> pd.DataFrame:
    """Exposure and overdue (cents) and the default state per customer pk, as of the date:
    the book's one definition (riskcli.services.book). `ids`: only these customers."""
    if ids is not None and len(ids) <= ONE_BY_ONE:
        parts = [book.positions(store, as_of, policy, customer_pk=i) for i in ids]
        frame = pd.concat(parts, ignore_index=True) if parts else book.positions(store, as_of)
        frame = frame[frame["customer_id"].isin(ids)]  # (no ids: an empty frame of the columns)
    else:
        frame = book.positions(store, as_of, policy)
    return pd.DataFrame(
        {
            "id": frame["customer_id"].astype("int64"),
            "exposure": frame["exposure"].fillna(0).round().astype("int64"),
            "overdue": frame["overdue"].fillna(0).round().astype("int64"),
            "in_default": frame["in_default"].astype(bool),
        }
    )


def _latest_grades(store: Store) -> pd.DataFrame:
    run = store.scalar("SELECT max(id) FROM score_runs")
    if run is None:
        return pd.DataFrame({"id": pd.Series(dtype="int64"), "grade": pd.Series(dtype=object)})
    frame: pd.DataFrame = store.query_df(
        "SELECT customer_id AS id, grade FROM scores WHERE run_id = ?", (run,)
    )
    return frame


def _ids_json(ids: pd.Series) -> str:
    return json.dumps([int(i) for i in ids])


def group_positions(
    store: Store,
    as_of: date,
    policy: book.DefaultPolicy | None = None,
    *,
    only: str | None = None,
) -> pd.DataFrame:
    """One row per group: members, exposure, overdue, member_limits, group_limit, worst_grade
    (a member in default counts as `DF`), limit_expires; money in cents, as integers. A group's
    exposure is the sum of its members' (the book's exposure as of the date). `only`: one
    group."""
    members = memberships(store)
    if only is not None:
        members = members[members["group"] == only]
    columns = ["group", "members", "exposure", "overdue", "member_limits", "group_limit",
               "worst_grade", "limit_expires"]  # fmt: skip
    if members.empty:
        return pd.DataFrame(columns=columns)
    limits = store.query_df(
        "SELECT id, credit_limit FROM customers WHERE id IN (SELECT value FROM json_each(?))",
        (_ids_json(members["id"]),),
    )
    frame = members.merge(limits, on="id", how="left")
    ids = [int(i) for i in members["id"]]
    frame = frame.merge(customer_positions(store, as_of, policy, ids), on="id", how="left")
    frame = frame.merge(_latest_grades(store), on="id", how="left")
    frame.loc[frame["in_default"].fillna(False).astype(bool), "grade"] = "DF"
    rank = {g: i for i, g in enumerate(GRADE_ORDER)}
    frame["rank"] = frame["grade"].map(rank)
    frame[["exposure", "overdue", "credit_limit"]] = (
        frame[["exposure", "overdue", "credit_limit"]].fillna(0).astype("int64")
    )
    agg = frame.groupby("group", sort=True).agg(
        members=("id", "size"),
        exposure=("exposure", "sum"),
        overdue=("overdue", "sum"),
        member_limits=("credit_limit", "sum"),
        worst_rank=("rank", "max"),
    )
    agg["worst_grade"] = [
        None if pd.isna(r) else GRADE_ORDER[int(r)] for r in agg.pop("worst_rank")
    ]
    own = store.query_df("SELECT group_id AS \"group\", credit_limit AS group_limit, "
                         "limit_expires FROM group_limits").set_index("group")  # fmt: skip
    agg = agg.join(own, how="left")
    agg["group_limit"] = agg["group_limit"].fillna(0).astype("int64")
    return agg.reset_index()[columns]


def groups_table(
    store: Store, as_of: date, policy: book.DefaultPolicy | None = None
) -> list[dict[str, Any]]:
    """`customers groups`: one row per group with money as Decimal."""
    frame = group_positions(store, as_of, policy)
    rows: list[dict[str, Any]] = []
    for rec in frame.to_dict("records"):
        row = {str(k): v for k, v in rec.items()}
        money_fields(row, "exposure", "overdue", "member_limits", "group_limit")
        limit = row["group_limit"] or row["member_limits"]
        row["utilisation_pct"] = round(float(row["exposure"] / limit * 100), 1) if limit else None
        if pd.isna(row.get("limit_expires")):
            row["limit_expires"] = None
        row["members"] = int(row["members"])
        rows.append(row)
    return rows


def group_members(
    store: Store, group: str, as_of: date, policy: book.DefaultPolicy | None = None
) -> list[dict[str, Any]]:
    """The members of one group with their limit, exposure, overdue and grade."""
    members = memberships(store)
    part = members[members["group"] == group]
    if part.empty:
        raise InputError(f"no customer group {group!r} (see `customers groups`)")
    pos = customer_positions(store, as_of, policy, [int(i) for i in part["id"]])
    frame = part.merge(pos, on="id", how="left").merge(_latest_grades(store), on="id", how="left")
    limits = store.query_df(
        "SELECT id, credit_limit, parent_id FROM customers WHERE id IN "
        "(SELECT value FROM json_each(?))",
        (_ids_json(part["id"]),),
    )
    frame = frame.merge(limits, on="id", how="left").sort_values("external_id")
    frame.loc[frame["in_default"].fillna(False).astype(bool), "grade"] = "DF"
    rows = []
    for rec in frame.to_dict("records"):
        rows.append(
            {
                "customer_id": rec["external_id"],
                "parent_id": None if pd.isna(rec["parent_id"]) else rec["parent_id"],
                "credit_limit": from_cents(int(rec["credit_limit"])),
                "exposure": from_cents(int(0 if pd.isna(rec["exposure"]) else rec["exposure"])),
                "overdue": from_cents(int(0 if pd.isna(rec["overdue"]) else rec["overdue"])),
                "grade": None if pd.isna(rec["grade"]) else rec["grade"],
            }
        )
    return rows


def customer_limit_facts(store: Store, customer_pk: int, as_of: date) -> list[tuple[str, Any]]:
    """For a customer's report: the limit's state (temporary until, falls back to, next
    review, a pending request) and, in a group, the group's position."""
    head = customers.header_by_pk(store, customer_pk)
    facts: list[tuple[str, Any]] = [("next_review", head.limit_review)]
    if head.limit_expires is not None:
        facts.append(("temporary_until", head.limit_expires))
        facts.append(("falls_back_to", head.limit_fallback or from_cents(0)))
    pending = store.query(
        "SELECT id, amount FROM limit_requests WHERE customer_id = ? AND status = 'pending'",
        (customer_pk,),
    )
    if pending:
        facts.append(("pending_request", f"{pending[0]['id']}: {from_cents(pending[0]['amount'])}"))
    members = memberships(store)
    mine = members.loc[members["id"] == customer_pk, "group"]
    if mine.empty:
        return facts
    group = str(mine.iloc[0])
    frame = group_positions(store, as_of, only=group)
    pos = {str(k): v for k, v in frame[frame["group"] == group].iloc[0].to_dict().items()}
    facts += [
        ("group", group),
        ("group_members", int(pos["members"])),
        ("group_exposure", from_cents(int(pos["exposure"]))),
        ("group_overdue", from_cents(int(pos["overdue"]))),
        ("group_member_limits", from_cents(int(pos["member_limits"]))),
        ("group_limit", from_cents(int(pos["group_limit"]))),
        ("group_worst_grade", pos["worst_grade"]),
    ]
    return facts

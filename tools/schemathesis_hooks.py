"""Schemathesis hooks for the ledger's GraphQL API (loaded by tools/fuzz_api.sh).

Strategies for the API's own scalars (decimal strings for Count, Money and Position, ISO dates
and instants, small JSON values), valid values mostly and junk sometimes, so generated queries
reach the resolvers and the validators both; and the one check this run makes: no answer is a
5xx. A GraphQL error (VALIDATION, NOT_FOUND, FORBIDDEN ...) is a correct answer to a generated
query, so schemathesis's own GraphQL error check is not used.
"""

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes


def _decimal_or_junk(max_value):
    decimal = st.integers(min_value=0, max_value=max_value).map(str)
    junk = st.one_of(
        st.text(max_size=12),
        st.sampled_from(["-1", "1e9", "18446744073709551616", " 7", "0x10", ""]),
    )
    return st.one_of(decimal, decimal, junk).map(nodes.String)


schemathesis.graphql.scalar("Count", _decimal_or_junk(10**6))
schemathesis.graphql.scalar("Position", _decimal_or_junk(10**6))
schemathesis.graphql.scalar("Money", _decimal_or_junk(10**12))
schemathesis.graphql.scalar(
    "Date",
    st.one_of(st.dates().map(str), st.text(max_size=12)).map(nodes.String),
)
schemathesis.graphql.scalar(
    "DateTime",
    st.one_of(
        st.datetimes().map(lambda instant: instant.isoformat() + "Z"),
        st.text(max_size=24),
    ).map(nodes.String),
)
schemathesis.graphql.scalar(
    "JSON", st.one_of(st.text(max_size=20).map(nodes.String), st.integers(0, 100).map(nodes.Int))
)


@schemathesis.check
def no_server_error(ctx, response, case):
    """A 5xx answer, or one that is not JSON, is a failure."""
    if response.status_code >= 500:
        raise AssertionError(f"status {response.status_code}: {response.text[:300]}")
    if response.status_code == 200:
        response.json()

"""A third-party GraphQL client (Python `gql`, PyPI) against a running candex, as a partner's
integration would use it: the schema is introspected from the server, every document is
validated against it on the client before it is sent, and results come back as the client
sees them. Prints one JSON object for the Rust test (tests/api/clients.rs) to check.

Usage: python3 gql_client.py URL TOKEN PROFILE_ID SEED_QUERY_FILE
"""

import json
import sys

from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport
from graphql import GraphQLError

url, token, profile, seed_path = sys.argv[1:5]
transport = RequestsHTTPTransport(url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30, retries=0)
client = Client(transport=transport, fetch_schema_from_transport=True)
out = {}
with client as session:
    # The seed query, validated against the introspected schema, then executed.
    with open(seed_path, encoding="utf-8") as f:
        seed = gql(f.read())
    out["seed"] = session.execute(seed, variable_values={"id": profile})

    # A document the served schema does not allow is refused by the client, not sent.
    try:
        session.execute(gql('query { candidateProfile(id: "x") { noSuchField } }'))
        out["invalid"] = "sent"
    except GraphQLError as e:
        out["invalid"] = str(e)

    # Field errors: the bad alias is present and null beside the good one, with its error.
    try:
        session.execute(
            gql(
                "query($id: String!) { good: candidateProfile(id: $id) { profileId { value } }"
                ' bad: candidateProfile(id: "not-an-id") { profileId { value } } }'
            ),
            variable_values={"id": profile},
        )
        out["fieldError"] = "no error"
    except TransportQueryError as e:
        out["fieldError"] = {"data": e.data, "errors": e.errors}

print(json.dumps(out))

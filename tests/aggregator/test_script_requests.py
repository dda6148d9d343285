"""Requests shaped like a team's own scripts (curl in cron, requests, a dashboard) against a
real `wm serve`: a mistake is refused saying what to send, never answered with a guess."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from tests.aggregator.server import RunningAggregator, two_pool_aggregator
from winged_monkey.demo.server import MotoServer

V1 = "/api/v1"


def test_a_mistyped_filter_is_refused_not_answered_with_every_account(
    aggregator: RunningAggregator,
) -> None:
    """A nightly job listing `?acount=team-a` to stop what it finds must not get team-b's
    machines too."""
    with aggregator.client(aggregator.mint("cron", "operator")) as client:
        reply = client.get(f"{V1}/instances", params={"acount": "team-a"})
        events = client.get(f"{V1}/events", params={"targte": "i-0abc"})
        whoami = client.get(f"{V1}/whoami", params={"pool": "alpha"})
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"] == {
        "code": "invalid",
        "message": "unknown query parameter 'acount' (did you mean 'account'?); "
        "/api/v1/instances takes account, complete, pool",
    }
    assert events.status_code == 422
    assert "'targte' (did you mean 'target'?)" in events.json()["error"]["message"]
    assert whoami.status_code == 422
    assert whoami.json()["error"]["message"].endswith("/api/v1/whoami takes no query parameters")


def test_a_filter_given_twice_is_refused_not_narrowed_to_the_last(
    aggregator: RunningAggregator,
) -> None:
    """`?account=team-a&account=team-b` listed team-b's rows alone, as if team-a had none."""
    with aggregator.client(aggregator.mint("cron", "viewer")) as client:
        reply = client.get(f"{V1}/instances?account=team-a&account=team-b")
    assert reply.status_code == 422
    assert reply.json()["error"]["message"] == (
        "query parameter 'account' is given 2 times; it takes one value (ask once for each)"
    )


def test_a_body_sent_as_curl_sends_it_by_default_is_told_how_to_send_json(
    aggregator: RunningAggregator,
) -> None:
    """`curl -d '{...}'` sends a form's content type; no body, or one that is not JSON, each
    say what the route wants, not pydantic's ': Input should be a valid dictionary ...'."""
    launch = f"{V1}/pools/alpha/launches"
    wanted = (
        "a JSON object with name, deployable (and optionally size, location, key_pair, "
        "network, count, parameters)"
    )
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    as_json = {"Content-Type": "application/json"}
    with aggregator.client(aggregator.mint("cron", "admin")) as client:
        as_form = client.post(launch, content=b'{"deployable": "web"}', headers=form)
        as_text = client.post(f"{V1}/tokens", content=b"{}", headers={"Content-Type": "text/plain"})
        nothing = client.post(launch)
        broken = client.post(launch, content=b'{"deployable": "web",}', headers=as_json)
        listed = client.post(launch, content=b"[]", headers=as_json)
        field = client.post(launch, json={"deployable": "web"})
    assert as_form.status_code == 415, as_form.text
    assert as_form.json()["error"] == {
        "code": "unsupported_media_type",
        "message": "send the body as JSON with 'Content-Type: application/json', not "
        "'application/x-www-form-urlencoded' (curl: --json '{...}', or "
        "-H 'Content-Type: application/json' with -d)",
    }
    assert as_text.status_code == 415
    assert "not 'text/plain'" in as_text.json()["error"]["message"]
    assert (nothing.status_code, nothing.json()["error"]["message"]) == (
        422,
        f"this request needs a body: {wanted}",
    )
    assert (broken.status_code, broken.json()["error"]["message"]) == (
        422,
        "the body is not valid JSON: Expecting property name enclosed in double quotes at "
        f"character 21; send {wanted}",
    )
    assert (listed.status_code, listed.json()["error"]["message"]) == (
        422,
        f"the body must be {wanted}",
    )
    assert field.json()["error"]["message"] == "name: Field required"


def test_a_method_a_path_does_not_take_is_told_every_one_it_does(
    aggregator: RunningAggregator,
) -> None:
    """405's Allow and message name every method of the path: Starlette's named the first
    route's alone (`Allow: GET` on /api/v1/tokens, which takes POST too)."""
    web = aggregator.ids["team-a", "web"]
    with aggregator.client(aggregator.mint("cron", "admin")) as client:
        tokens = client.put(f"{V1}/tokens")
        row = client.options(f"{V1}/instances/team-a/{web}")
        action = client.get(f"{V1}/instances/team-a/{web}/stop")
    assert tokens.status_code == 405
    assert tokens.headers["Allow"] == "GET, HEAD, POST"
    assert tokens.json()["error"] == {
        "code": "method_not_allowed",
        "message": "PUT is not allowed on /api/v1/tokens; it takes GET, HEAD or POST",
    }
    assert row.headers["Allow"] == "DELETE, GET, HEAD"
    assert action.headers["Allow"] == "POST"
    assert action.json()["error"]["message"].endswith("/stop; it takes POST")


def test_head_is_answered_where_get_is_with_its_headers_and_no_body(
    aggregator: RunningAggregator,
) -> None:
    """`curl -I .../instances` (a script checking the ETag, or that the token works) was
    405; it gets GET's status and headers, without the body."""
    web = aggregator.ids["team-a", "web"]
    with aggregator.client(aggregator.mint("cron", "viewer")) as client:
        # The server polls its accounts every 0.5 s, and a poll between the two requests
        # changes the listing (its rows' observed_at) and so its ETag: take a pair that
        # a third request shows no poll came between.
        deadline = time.monotonic() + 30
        while True:
            got = client.get(f"{V1}/instances")
            head = client.head(f"{V1}/instances")
            after = client.get(f"{V1}/instances")
            if after.headers["ETag"] == got.headers["ETag"] or time.monotonic() > deadline:
                break
        row = client.head(f"{V1}/instances/team-a/{web}")
        action = client.head(f"{V1}/instances/team-a/{web}/stop")
    with aggregator.client() as anonymous:
        refused = anonymous.head(f"{V1}/whoami")
    assert head.status_code == 200, head.text
    assert head.content == b""
    assert head.headers["ETag"] == got.headers["ETag"]
    assert head.headers["Content-Type"] == "application/json"
    assert head.headers["Content-Length"] == got.headers["Content-Length"]  # gzipped alike
    assert (row.status_code, row.content) == (200, b"")
    assert (refused.status_code, refused.content) == (401, b"")
    assert action.status_code == 405
    assert action.headers["Allow"] == "POST"


def test_a_machines_name_in_the_path_is_told_its_id(aggregator: RunningAggregator) -> None:
    """`curl -X POST .../instances/team-a/web/stop`: people call machines by name, the path
    takes the id; the 404 says which id (and where), and nothing is stopped."""
    web = aggregator.ids["team-a", "web"]
    with aggregator.client(aggregator.mint("cron", "operator")) as client:
        by_name = client.post(f"{V1}/instances/team-a/web/stop")
        as_app = client.get(f"{V1}/deployments/team-a/{web}")
    assert by_name.status_code == 404
    assert by_name.json()["error"]["message"] == (
        f"no instance 'web' in account 'team-a': the path takes an id, and 'web' is the name "
        f"of {web} (/api/v1/instances/team-a/{web})"
    )
    assert as_app.json()["error"]["message"] == (
        f"no app '{web}' in account 'team-a': it is an instance, /api/v1/instances/team-a/{web}"
    )
    assert aggregator.cloud_state("team-a", "web") == "running"


def test_a_token_read_with_its_windows_line_end_is_told_what_to_strip(
    aggregator: RunningAggregator,
) -> None:
    """`curl -H "Authorization: Bearer $(cat tokenfile)"` of a file with CRLF line ends keeps
    the CR in the header; uvicorn answered text/plain 'Invalid HTTP request received.'. It
    is the API's JSON error saying what to strip, and the token is neither echoed nor logged."""
    token = aggregator.mint("cron", "viewer")
    head = f"GET /api/v1/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r"
    with socket.create_connection(("127.0.0.1", aggregator.process.port), timeout=30) as conn:
        conn.sendall(head.encode() + b"\r\nAccept: */*\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):  # the server closes the connection after it
            answer += chunk
    status, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status == b"HTTP/1.1 400 Bad Request"
    assert b"content-type: application/json" in headers.lower()
    assert body.startswith(b'{"error":{"code":"bad_request",')  # as compact as the API's own
    assert json.loads(body) == {
        "error": {
            "code": "bad_request",
            "message": "the request is not valid HTTP: a header line is malformed, most often "
            "a carriage return left in a value (a token read from a file with Windows line "
            "ends: \"$(tr -d '\\r' < FILE)\"); nothing was done",
        }
    }
    secret = token.split("_", 2)[2]  # wm_ID_SECRET; the secret may hold _ too
    assert secret.encode() not in answer
    assert secret not in aggregator.process.log.read_text(encoding="utf-8", errors="replace")


def test_a_time_whose_plus_the_url_made_a_space_is_told_so(
    aggregator: RunningAggregator,
) -> None:
    """`curl '.../events?since=2026-12-07T10:00:00+01:00'`: the URL reads the + as a space,
    which pydantic called 'unexpected extra characters at the end of the input'."""
    with aggregator.client(aggregator.mint("cron", "viewer")) as client:
        plus = client.get(f"{V1}/events?since=2026-12-07T10:00:00+01:00")
        encoded = client.get(f"{V1}/events?since=2026-12-07T10:00:00%2B01:00")
    assert plus.status_code == 422
    assert plus.json()["error"]["message"] == (
        "query.since: Input should be a valid datetime or date, unexpected extra characters "
        "at the end of the input (got '2026-12-07T10:00:00 01:00': a '+' in a URL is a space; "
        "write the zone's + as %2B, or give the time in UTC with Z)"
    )
    assert encoded.status_code == 200


def test_a_dashboard_polling_with_its_etag_is_told_not_modified_until_a_row_changes(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    """A dashboard re-read the whole listing every few seconds; with the ETag it was given
    it is answered 304 and no body, gzipped or not, until a row changes (here a stop)."""
    with two_pool_aggregator(
        moto_server, tmp_path / "agg", serve="rate = 1000\nburst = 1000\npoll_interval = 3600"
    ) as agg:
        web = agg.ids["team-a", "web"]
        with agg.client(agg.mint("board", "operator")) as client:
            first = client.get(f"{V1}/instances")
            tag = first.headers["ETag"]
            again = client.get(f"{V1}/instances", headers={"If-None-Match": tag})
            packed = client.get(
                f"{V1}/instances", headers={"If-None-Match": tag, "Accept-Encoding": "gzip"}
            )
            assert client.post(f"{V1}/instances/team-a/{web}/stop").status_code == 202
            deadline = time.monotonic() + 30
            while (
                after := client.get(f"{V1}/instances", headers={"If-None-Match": tag})
            ).status_code == 304:
                assert time.monotonic() < deadline, "the listing's ETag never changed"
                time.sleep(0.05)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["ETag"] == tag
    assert (packed.status_code, packed.content) == (304, b"")
    assert after.status_code == 200
    assert after.headers["ETag"] != tag
    (row,) = [r for r in after.json() if (r["account"], r["name"]) == ("team-a", "web")]
    # The stop under way (state as last observed), or already seen stopped.
    assert (row["requested"] or {}).get("action") == "stop" or row["state"] == "stopped", row


def test_a_huge_body_is_refused_before_it_is_read_even_without_a_token(
    aggregator: RunningAggregator,
) -> None:
    """FastAPI read and parsed a body before checking the token: 300 MB from a client with
    no token grew the server by 600 MB. A body over 1 MB is 413, said in the one shape,
    whether its length is declared or it comes chunked."""
    said = "the request's body is over 1024 KB, the most this API takes: nothing was done"
    body = b'{"user": "' + b"a" * (2 * 1024 * 1024) + b'", "role": "admin"}'

    def chunks() -> Iterator[bytes]:
        for start in range(0, 1536 * 1024, 64 * 1024):
            yield body[start : start + 64 * 1024]

    json_type = {"Content-Type": "application/json"}
    with aggregator.client() as client:
        declared = client.post(f"{V1}/tokens", content=body, headers=json_type)
        chunked = client.post(f"{V1}/tokens", content=chunks(), headers=json_type)
    assert declared.status_code == 413
    assert declared.content.startswith(b'{"error":{"code":"too_large",')  # as the API's own
    assert declared.json() == {"error": {"code": "too_large", "message": said}}
    assert chunked.status_code == 413
    assert chunked.json() == {"error": {"code": "too_large", "message": said}}


def test_a_path_with_a_trailing_slash_or_a_typo_is_told_the_right_one(
    aggregator: RunningAggregator,
) -> None:
    """`curl -s .../api/v1/instances/ | jq length` printed nothing and exited 0: the server
    redirected (307, no body) and curl does not follow without -L."""
    with aggregator.client(aggregator.mint("cron", "viewer")) as client:
        slash = client.get(f"{V1}/instances/")
        typo = client.get(f"{V1}/instance")
    assert slash.status_code == 404
    assert slash.json()["error"] == {
        "code": "not_found",
        "message": "no such endpoint: /api/v1/instances/ (without the trailing slash: "
        "/api/v1/instances); see /api/v1/openapi.json",
    }
    assert typo.json()["error"]["message"] == (
        "no such endpoint: /api/v1/instance (did you mean /api/v1/instances?); "
        "see /api/v1/openapi.json"
    )


def test_the_openapi_document_describes_the_refusals_of_a_body(
    aggregator: RunningAggregator,
) -> None:
    """A client generated from the document knows 413 (any body over 1 MB) and 415 (a body
    not sent as JSON) as the one error shape, as they are really sent."""
    with aggregator.client() as client:
        document = client.get(f"{V1}/openapi.json").json()
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path in (f"{V1}/tokens", f"{V1}/pools/{{pool}}/launches"):
        responses = document["paths"][path]["post"]["responses"]
        for status in ("413", "415"):
            assert responses[status]["content"]["application/json"]["schema"] == error


def test_the_openapi_document_names_the_headers_a_script_reads(
    aggregator: RunningAggregator,
) -> None:
    """An action's 202 Location (where its outcome will be), a listing's headers naming the
    accounts it lacks or holds as last seen, and /events' cause filter are in the document."""
    with aggregator.client() as client:
        paths = client.get(f"{V1}/openapi.json").json()["paths"]
    act = paths[f"{V1}/instances/{{account}}/{{rid}}/{{action}}"]["post"]["responses"]["202"]
    destroy = paths[f"{V1}/deployments/{{account}}/{{rid}}"]["delete"]["responses"]["202"]
    assert "Location" in act["headers"]
    assert "Location" in destroy["headers"]
    listing = paths[f"{V1}/instances"]["get"]
    assert set(listing["responses"]["200"]["headers"]) == {"X-WM-Not-Listed", "X-WM-Stale"}
    assert "complete" in {p["name"] for p in listing["parameters"]}
    assert "cause" in {p["name"] for p in paths[f"{V1}/events"]["get"]["parameters"]}


def test_reading_the_openapi_document_prints_no_warning_into_the_servers_log(
    aggregator: RunningAggregator,
) -> None:
    """The first read of /openapi.json put pydantic's UnsupportedFieldAttributeWarning (and
    the line of pydantic's source it came from) into `wm serve`'s log, which reads as a fault:
    FastAPI's own `body` alias, nothing of the server's."""
    with aggregator.client() as client:
        assert client.get(f"{V1}/openapi.json").status_code == 200
    log = aggregator.process.log.read_text(encoding="utf-8", errors="replace")
    assert not re.search(r"\w+Warning: ", log), log

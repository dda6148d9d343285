"""The main screen against the real moto demo cloud, driven by keys at 80x24: the
filter, marks and sorting, the details, and the apps and instances views."""

from __future__ import annotations

from textual.events import Key
from textual.widgets import Static

from tests.ui.conftest import Live, cached_app, settle, wait_for
from tests.ui.on_screen import DEMO_COUNT, SIZE, by_name, main_of, text_of
from winged_monkey.engine.portal import Portal
from winged_monkey.models import Instance, InstanceState
from winged_monkey.terminal.render import natural
from winged_monkey.ui.screens.details import DetailsScreen
from winged_monkey.ui.screens.main import MainScreen


async def test_filter_live_over_visible_columns(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_of(app)
        await pilot.press("slash")
        assert screen.filter_input.has_focus
        await pilot.press(*"prod-web")
        assert [i.name for i in screen.table.shown] == ["prod-web-1", "prod-web-2"]
        assert "2 of 12" in str(screen.sub_title)
        await pilot.press("enter")  # back to the table, filter kept
        assert screen.table.has_focus
        assert screen.table.shown_count == 2
        await pilot.press("slash", "backspace", "backspace", "backspace", "backspace")
        await pilot.press(*"eu-west")  # the where column
        assert {i.account for i in screen.table.shown} == {"dev-eu"}
        await pilot.press(*" zz")  # nothing matches: the table says so, not a bare header
        await pilot.pause()
        drawn = [screen.table.render_line(y).text.rstrip() for y in range(screen.table.size.height)]
        assert [line for line in drawn[1:] if line] == [
            "  no row matches “eu-west zz” · esc clears the filter"
        ]
        assert "0 of 12" in str(screen.sub_title)
        await pilot.press("escape")  # clears and hides
        assert screen.table.shown_count == DEMO_COUNT
        assert not screen.filter_input.display
        assert screen.table.has_focus


async def test_mark_rows_and_sort(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_of(app)
        table = screen.table
        table.select(by_name(table, "web-1").key)
        await pilot.press("space")
        await pilot.pause()
        assert [i.name for i in table.marked] == ["web-1"]
        assert "1 marked" in str(screen.sub_title)
        cursor = table.cursor_instance
        assert cursor is not None
        assert cursor.name == "web-2"
        # `o` goes through the columns in screen order, to state (the first) last; the cursor
        # stays on its instance.
        await pilot.press(*["o"] * 8)
        assert str(screen.sub_title).endswith("state ▲")
        assert table.cursor_instance == cursor
        states = list(InstanceState)
        by_state = [(states.index(i.state), natural(i.name)) for i in table.shown]
        assert by_state == sorted(by_state)  # the lifecycle's order, names within a state
        assert len({i.state for i in table.shown}) > 1  # (an order that means something)
        await pilot.press("O")
        assert "▼" in str(screen.sub_title)
        assert table.cursor_instance == cursor
        reversed_states = [states.index(i.state) for i in table.shown]
        assert reversed_states == sorted(reversed_states, reverse=True)
        table.select(by_name(table, "web-1").key)
        await pilot.press("space")
        assert table.marked == []


async def test_details_show_every_field(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "api").key)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailsScreen)
        assert app.screen.instance.name == "api"
        text = text_of(app.screen)
        assert "provider state" in text
        assert "extra." in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_keys_typed_right_after_slash_reach_the_filter(live: Live) -> None:
    """Over a slow link `/web` arrives in one read: no key may be lost to the table."""
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for character in "/web/":  # no pause between them, unlike pilot.press
            app.post_message(Key("slash" if character == "/" else character, character))
        await wait_for(pilot, lambda: main_of(app).filter_input.value == "web/", "the filter")
        await pilot.pause()
        assert {i.name for i in main_of(app).table.shown} == set()  # nothing has "web/"


async def test_apps_view_shows_only_apps_and_instances_view_shows_all(
    cached_portal: Portal,
) -> None:
    """`:apps` is the same polled table narrowed to apps; `:instances` shows every row."""
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_of(app)
        first = main.table.shown[0]
        stack = first.model_copy(
            update={"id": "stack-1", "name": "shop", "extra": {"kind": "app", "members": 3}}
        )
        main.table.put(stack)
        everything = main.table.total_count
        await pilot.press("colon", *"apps", "enter")
        await wait_for(pilot, lambda: main.table.kind == "app", "the apps view")
        assert [i.name for i in main.table.shown] == ["shop"]
        assert app.view == "apps"
        assert "1 app" in str(main.sub_title)
        await pilot.press("colon", *"inst", "enter")
        await wait_for(pilot, lambda: main.table.kind is None, "the instances view")
        assert main.table.shown_count == everything
        assert app.view == "instances"


async def test_an_apps_view_without_apps_says_where_they_come_from(cached_portal: Portal) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        hint = app.screen.query_one("#no-apps", Static)
        assert not hint.display  # the instances view has rows
        await pilot.press("colon", *"apps", "enter")
        await wait_for(pilot, lambda: hint.display, "the hint")
        assert "Heat accounts list their stacks here" in str(hint.render())
        await pilot.press("colon", *"inst", "enter")
        await wait_for(pilot, lambda: not hint.display, "the hint to go")


def _inside_an_id(rows: list[Instance]) -> tuple[str, Instance]:
    """Three characters from inside one row's id that no row shows and no id starts with."""
    shown = " ".join(
        " ".join((str(r.state), r.name, r.account, r.where, r.size or "", *r.public_ips))
        + " ".join((*r.private_ips, str(r.price_hourly)))
        for r in rows
    ).lower()
    starts = [r.id.lower().removeprefix("i-") for r in rows]
    for row in rows:
        for n in range(4, len(row.id) - 3):
            word = row.id[n : n + 3].lower()
            if word not in shown and not any(s.startswith(word) for s in starts):
                return word, row
    raise AssertionError("every id's inside is on screen")


async def test_the_filter_finds_an_id_from_its_start_not_its_middle(live: Live) -> None:
    """No column shows the id: a word such as `db` found it inside a hex id (one row in
    sixteen of a fleet, mixed in with the db servers). Typed or pasted from its start
    (with or without `i-`), it still finds the row."""
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_of(app)
        inner, row = _inside_an_id(list(screen.table.shown))
        await pilot.press("slash", *inner)
        assert screen.table.shown_count == 0, (inner, [i.name for i in screen.table.shown])
        await pilot.press("escape", "slash", *row.id[:8])
        assert [i.name for i in screen.table.shown] == [row.name]
        await pilot.press("escape", "slash", *row.id[2:9])  # without its i-
        assert [i.name for i in screen.table.shown] == [row.name]


async def test_the_title_says_its_counts_whole_with_rows_marked_at_80_columns(live: Live) -> None:
    # Sorted by public IP with 3 rows marked, the title ended `3 ma…` at 80 columns.
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_of(app)
        table = screen.table
        while table.sort_column != "public_ip":
            await pilot.press("o")
        await pilot.press("O", "g", "space", "space", "space")
        await pilot.pause()
        assert len(table.marked) == 3
        title = screen.query_one("HeaderTitle")

        def drawn() -> str:
            return title.render_line(0).text.strip()

        await wait_for(pilot, lambda: "marked" in drawn(), "the marks in the title", seen=drawn)
        assert drawn().endswith(f"— {DEMO_COUNT} instances · 3 marked · public IP ▼"), drawn()
        assert "…" not in drawn()

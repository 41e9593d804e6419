"""`schema/schema.graphql` is the printed contract front ends review; it must match the code."""

from __future__ import annotations

from schema.build import SDL_PATH, printed_sdl


def test_checked_in_sdl_matches_the_code() -> None:
    assert SDL_PATH.read_text(encoding="utf-8") == printed_sdl(), "run `wanjia schema export` and commit the result"


def test_every_mutation_takes_one_input_and_answers_errors() -> None:
    from graphql import GraphQLNonNull, build_schema

    schema = build_schema(printed_sdl())
    mutation = schema.mutation_type
    assert mutation is not None
    shapes = {}
    for name, field in mutation.fields.items():
        payload = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        shapes[name] = (list(field.args), "errors" in payload.fields)
    assert shapes == dict.fromkeys(mutation.fields, (["input"], True))


# Free text that merely has such a name: what a room is booked for, what an application (办理)
# is for, in the resident's words.
FREE_TEXT = {
    ("RoomBooking", "purpose"),
    ("RequestRoomBookingInput", "purpose"),
    ("ServiceApplication", "purpose"),
    ("ApplyForServiceInput", "purpose"),
}
CLOSED_SET = ("kind", "action", "status", "source", "method", "purpose", "role")


def test_closed_sets_are_enums_not_strings() -> None:
    """A kind, an action, a status… that comes out as a String is a union of strings only the
    prose knows; as an enum, graphql-codegen gives the front ends its members."""
    from graphql import GraphQLInputObjectType, GraphQLObjectType, build_schema, get_named_type

    schema = build_schema(printed_sdl())
    strings = []
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(type_, GraphQLObjectType | GraphQLInputObjectType):
            continue
        for name, field in type_.fields.items():
            named = get_named_type(field.type).name
            if name.lower().endswith(CLOSED_SET) and named == "String" and (type_.name, name) not in FREE_TEXT:
                strings.append(f"{type_.name}.{name}")
    # Codes of communities, grids, … are the street office's own identifiers, an open set.
    identifiers = {
        f"{t}.code" for t in ("AppointmentType", "Building", "Community", "ComplaintCategory", "Department", "Grid")
    }
    assert sorted(set(strings) - identifiers) == []
    assert str(schema.type_map["Notification"].fields["kind"].type) == "NotificationKind!"  # type: ignore[attr-defined]
    assert str(schema.type_map["AppointmentEvent"].fields["action"].type) == "AppointmentAction!"  # type: ignore[attr-defined]

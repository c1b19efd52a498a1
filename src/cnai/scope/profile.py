"""The service profile (contract: docs/spec/profile.md).

Every field is optional because *omitted means unknown, never false*.  Unknown keys and values
outside the closed enumerations are errors that name the field, with a "did you mean" hint.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, ValidationError

from cnai.errors import InputError

SCHEMA_ID = "cnai/profile/v1"

Role = Literal["provider", "technical_supporter", "content_platform", "app_store", "user"]
Modality = Literal["text", "image", "audio", "video", "virtual_scene", "code"]
AlgorithmType = Literal["generation_synthesis", "personalized_push", "ranking_selection", "search_filtering",
                        "dispatch_decision"]
Location = Literal["mainland", "hk_macao_taiwan", "overseas"]
ModelSource = Literal["self_developed", "fine_tuned", "third_party_filed", "third_party_unfiled", "foreign_api",
                      "open_weights"]
DataSource = Literal["self_collected", "web_scraped", "purchased", "open_source", "user_inputs", "synthetic"]
Exemption = Literal["none", "contract_necessity", "hr_management", "emergency", "free_trade_zone_negative_list"]
Sector = Literal["news", "healthcare", "finance", "education", "legal", "employment", "autonomous_driving",
                 "government", "gaming", "ecommerce", "social_media"]
Region = Literal["beijing", "shanghai", "shenzhen"]


class _Section(BaseModel):
    # strict: a quoted "yes"/"no" is not a boolean and "5" is not a count (issue #10); dates opt back in to
    # parsing from text, because profiles are read with dates left as strings.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)


class Service(_Section):
    name: str = Field(description="Name of the AI service (required).")
    description: str | None = Field(None, description="Short plain-language description of what the service does.")
    launch_date: dt.date | None = Field(None, strict=False,
                                        description="Date the service launched (or is planned to).")


class Organization(_Section):
    name: str | None = Field(None, description="Legal name of the organisation that provides the service.")
    location: Location | None = Field(None, description="Where the legal entity providing the service is.")
    unified_social_credit_code: str | None = Field(
        None, description="18-character Unified Social Credit Code (GB 32100); used for GB 45438 provider codes.")
    critical_information_infrastructure_operator: bool | None = Field(None, description="CIIO.")
    important_data_processor: bool | None = Field(
        None, description="Processes data identified (catalogued, notified or published) as important data.")


class Audience(_Section):
    public_in_mainland: bool | None = Field(
        None, description="Offered to the public in mainland China, directly or via API.")
    research_or_internal_only: bool | None = Field(
        None, description="Only researched, developed or used internally, not offered to the domestic public.")
    minors: bool | None = Field(None, description="Used by, or targeted at, minors (under 18).")
    elderly: bool | None = Field(None, description="Meaningful elderly user base.")
    consumer_transactions: bool | None = Field(None, description="Sells goods or services to consumers.")
    dispatches_workers: bool | None = Field(None, description="Allocates work, pay or schedules by algorithm.")
    registered_users: NonNegativeInt | None = Field(
        None, description="Registered user accounts (a count, not a share).")
    monthly_active_users: NonNegativeInt | None = Field(None, description="Monthly active users (a count).")


class Capabilities(_Section):
    generates: list[Modality] | None = Field(None, description="Output modalities generated or synthesised by AI.")
    dialogue_simulating_person: bool | None = Field(None, description="Chat / writing that simulates a natural person.")
    voice_synthesis_or_cloning: bool | None = Field(
        None, description="Synthesises or imitates voices, or edits a voice so that its identity features change.")
    face_generation_or_swap: bool | None = Field(
        None, description="Any face generation, replacement or manipulation (synthetic or real). Older, coarser "
                          "field: prefer synthetic_face_generation and real_face_swap_or_edit.")
    synthetic_face_generation: bool | None = Field(
        None, description="Generates faces of people who do not exist (synthetic faces, avatars).")
    real_face_swap_or_edit: bool | None = Field(
        None, description="Swaps, replaces or edits the face of a real, identifiable person (face swap, "
                          "face or pose manipulation of a real person).")
    edits_real_person_biometrics: bool | None = Field(
        None, description="Lets users swap, edit or clone the face or voice of a real, identifiable person.")
    facial_recognition: bool | None = Field(
        None, description="Verifies or identifies people by their face (face recognition technology).")
    immersive_realistic_scenes: bool | None = Field(
        None, description="Generates or edits immersive, realistic scenes (virtual or mixed reality).")
    sensitive_objects_or_scenes: bool | None = Field(
        None, description="Generates or edits special objects or scenes that touch national security or the public interest.")
    recommendation: list[AlgorithmType] | None = Field(
        None, description="Algorithm types the service applies to users (the five kinds named by the Algorithm Recommendation Provisions).")
    public_opinion_features: bool | None = Field(
        None, description="Forums, comments, chat rooms, groups, short video, live streaming, ... (2018 Provisions Art. 2).")
    news_information_service: bool | None = Field(
        None, description="Provides internet news information services (gathering and publishing, reprinting, or running a platform that spreads news).")
    emotional_companionship: bool | None = Field(
        None, description="Sustained emotional interaction simulating a human personality.")
    automated_decisions_significant_impact: bool | None = Field(
        None, description="Makes automated decisions with a significant impact on individuals' rights and interests.")
    exports_generated_files: bool | None = Field(
        None, description="Users can download, copy or export generated content as files.")
    unlabeled_output_on_request: bool | None = Field(
        None, description="Supplies content without the explicit label when a user asks for it.")


class Model(_Section):
    source: ModelSource | None = Field(
        None, description="Where the model behind the service comes from (own, fine-tuned, a filed or unfiled third-party model, a foreign API, open weights).")
    filing_number: str | None = Field(
        None, description="Filing or registration number of the model the service relies on, if it has one.")


class TrainingData(_Section):
    trains_or_fine_tunes: bool | None = Field(
        None, description="Trains or fine-tunes a model (pre-training, fine-tuning or optimisation) for this service.")
    sources: list[DataSource] | None = Field(None, description="Kinds of training-data sources used.")
    contains_personal_information: bool | None = Field(None, description="Training data contains personal information.")
    contains_sensitive_personal_information: bool | None = Field(
        None, description="Training data contains sensitive personal information (biometrics, health, finance, location, minors under 14, ...).")
    uses_user_inputs_for_training: bool | None = Field(
        None, description="Users' inputs or the generated content are used to train or improve the model.")
    annotation: bool | None = Field(None, description="The provider annotates data, in-house or outsourced.")
    foreign_share: float | None = Field(
        None, ge=0, le=1, description="Share (0 to 1) of training data from outside mainland China, if known.")


class PersonalInformation(_Section):
    processes: bool | None = Field(
        None, description="The service processes personal information at all (collects, stores, uses, ...).")
    individuals: NonNegativeInt | None = Field(
        None, description="Individuals whose personal information is processed, in total.")
    sensitive: bool | None = Field(None, description="Processes sensitive personal information.")
    sensitive_individuals: NonNegativeInt | None = Field(
        None, description="Individuals whose sensitive personal information is processed.")
    minors_under_14: bool | None = Field(None, description="Processes personal information of children under 14.")
    biometric: bool | None = Field(
        None, description="Processes biometric information (faces, voiceprints, fingerprints, ...).")
    face_data_individuals: NonNegativeInt | None = Field(
        None, description="Individuals whose face information is stored (facial-recognition filing scale).")
    shares_or_entrusts: bool | None = Field(
        None, description="Entrusts processing to a processor (cloud, model vendor, annotators), provides PI to "
                          "another handler, or publishes PI.")


class CrossBorder(_Section):
    transfers_personal_information: bool | None = Field(
        None, description="Sends personal information outside mainland China, or lets it be accessed from there.")
    individuals_this_year: NonNegativeInt | None = Field(
        None, description="Individuals whose non-sensitive personal information was sent abroad, cumulative since 1 January of this year.")
    sensitive_individuals_this_year: NonNegativeInt | None = Field(
        None, description="Individuals whose sensitive personal information was sent abroad, cumulative since 1 January of this year.")
    important_data: bool | None = Field(
        None, description="Sends abroad data that has been notified or published as important data.")
    exemption: Exemption | None = Field(
        None, description="A cross-border exemption the transfer relies on, if any ('none' when no exemption applies).")
    servers_outside_mainland: bool | None = Field(
        None, description="Servers or processing sites for the service are outside mainland China.")


class Ethics(_Section):
    ai_research_and_development: bool | None = Field(
        None, description="Conducts AI research and development involving people, personal information or ethically sensitive areas.")
    strong_influence_human_machine: bool | None = Field(
        None, description="Human-machine integration with a strong influence on behaviour, emotions or health.")
    mobilises_public_opinion: bool | None = Field(
        None, description="Algorithms or systems able to mobilise public opinion or steer social awareness.")
    autonomous_decisions_safety_health: bool | None = Field(
        None, description="Highly autonomous decision systems used where safety or health is at stake.")


class Profile(_Section):
    """A service profile: facts about one AI service and the organisation behind it."""

    schema_: Literal["cnai/profile/v1"] = Field(alias="schema")
    service: Service
    organization: Organization | None = Field(None, description="The organisation behind the service.")
    roles: list[Role] | None = Field(
        None, description="Roles the organisation plays for this service (provider, technical supporter, platform, app store, user).")
    audience: Audience | None = Field(None, description="Who uses the service and how many.")
    capabilities: Capabilities | None = Field(None, description="What the service generates, synthesises, recommends or decides.")
    model: Model | None = Field(None, description="The model the service runs on.")
    training_data: TrainingData | None = Field(None, description="Training and fine-tuning data.")
    personal_information: PersonalInformation | None = Field(None, description="Personal information the service processes.")
    cross_border: CrossBorder | None = Field(None, description="Data leaving mainland China.")
    ethics: Ethics | None = Field(None, description="Facts that decide whether science-and-technology ethics review applies.")
    sectors: list[Sector] | None = Field(
        None, description="Sectors the service operates in; some carry their own AI rules.")
    regions: list[Region] | None = Field(
        None, description="Local rules to consider: where the service is operated or launched.")

    def facts(self) -> dict[str, Any]:
        """Nested dict of the facts that are known (unknown ones are absent)."""
        return self.model_dump(mode="python", exclude_none=True, exclude={"schema_"})


def json_schema() -> dict[str, Any]:
    schema = Profile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://cnai.dev/schema/profile/v1.json"
    schema["title"] = "cnai service profile (cnai/profile/v1)"
    return schema


def _known_fields(path: tuple) -> list[str]:
    model: Any = Profile
    for part in path:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None)
        if field is None:
            return []
        ann = field.annotation
        model = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type)
                      and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return [f.alias or n for n, f in model.model_fields.items()]


def _format_error(err: dict, line_of: dict[tuple, int]) -> str:
    loc = tuple(err["loc"])
    path = ".".join(str(p) for p in loc)
    line = _nearest_line(loc, line_of)
    where = f"{path} (line {line})" if line else path
    kind = err["type"]
    if kind == "extra_forbidden":
        known = _known_fields(loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        msg = f"unknown field {str(loc[-1])!r}"
        if hint:
            msg += f"; did you mean {hint[0]!r}?"
        elif known:
            msg += f"; allowed: {', '.join(known)}"
        return f"{where}: {msg}"
    if kind == "literal_error":
        allowed = err.get("ctx", {}).get("expected", "")
        return f"{where}: {err['input']!r} is not allowed; expected one of {allowed}"
    if kind == "missing":
        return f"{where}: required field is missing"
    if kind == "bool_type":
        return f"{where}: expected true or false, got {err.get('input')!r} (booleans are not quoted)"
    if kind == "int_type":
        return f"{where}: expected a whole number, got {err.get('input')!r}"
    return f"{where}: {err['msg']} (got {err.get('input')!r})"


def _nearest_line(loc: tuple, line_of: dict[tuple, int]) -> int | None:
    for i in range(len(loc), 0, -1):
        if loc[:i] in line_of:
            return line_of[loc[:i]]
    return None


def _yaml_lines(text: str) -> dict[tuple, int]:
    """Map each key path in a YAML document to its 1-based line, for error messages."""
    import yaml

    out: dict[tuple, int] = {}

    def walk(node: Any, path: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = k.value
                out[(*path, key)] = k.start_mark.line + 1
                walk(v, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                out[(*path, i)] = v.start_mark.line + 1
                walk(v, (*path, i))

    try:
        walk(yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), ())
    except yaml.YAMLError:
        pass
    return out


class ProfileError(InputError):
    """Every problem found; the message (one line) shows the first three."""

    def __init__(self, path: str, problems: list[str], total: int | None = None):
        self.problems = problems
        total = max(total or 0, len(problems))
        more = f" (and {total - 3} more)" if total > 3 else ""
        super().__init__("invalid profile: " + "; ".join(problems[:3]) + more, path=path)


def parse_profile(data: Any, *, source: str = "<profile>", text: str | None = None) -> Profile:
    if not isinstance(data, dict):
        raise ProfileError(source, [f"expected a mapping with 'schema: {SCHEMA_ID}' at the top, got "
                                    f"{type(data).__name__}"])
    if data.get("schema") != SCHEMA_ID:
        raise ProfileError(source, [f"schema: must be {SCHEMA_ID!r} (got {data.get('schema')!r})"])
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        lines = _yaml_lines(text) if text else {}
        errors = exc.errors()
        raise ProfileError(source, [_format_error(e, lines) for e in errors[:20]], total=len(errors)) from None


# A profile is a few kilobytes; these limits keep a hostile file cheap (issue #10: peak memory < 300 MB).
MAX_PROFILE_BYTES = 1024 * 1024
MAX_PROFILE_DEPTH = 32
# A full profile is a few hundred YAML nodes; counting events with the C parser first (streaming, a few MB)
# keeps a node-dense file from building a quarter-million Python nodes before validation rejects it.
MAX_PROFILE_EVENTS = 20_000


def _too_many_nodes(text: str, source: str) -> None:
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        return
    try:
        for n, event in enumerate(yaml.parse(text, Loader=loader), 1):
            if n > MAX_PROFILE_EVENTS:
                line = event.start_mark.line + 1 if event.start_mark else "?"
                raise InputError(f"line {line}: more than {MAX_PROFILE_EVENTS:,} YAML nodes; a profile has a few "
                                 "hundred (limit)", path=source)
    except yaml.YAMLError:
        return  # the full loader below reports it with its line


def parse_profile_text(text: str, *, source: str = "<profile>") -> Profile:
    """Parse and validate profile YAML (or JSON) text; raise InputError naming source, line and field."""
    from cnai.core.loaders import parse_yaml

    if len(text) > 64 * 1024:  # only large texts can hold that many nodes
        _too_many_nodes(text, source)
    data = parse_yaml(text, source=source, aliases=False, dates_as_strings=True,
                      max_bytes=MAX_PROFILE_BYTES, max_depth=MAX_PROFILE_DEPTH)
    return parse_profile(data, source=source, text=text)


def load_profile(path: str | Path) -> Profile:
    """Read and validate a profile YAML (or JSON) file; raise ProfileError naming file and fields."""
    from cnai.core.loaders import read_text

    text = read_text(path, max_bytes=MAX_PROFILE_BYTES, what="profile")
    return parse_profile_text(text, source=str(path))


def fact_paths() -> set[str]:
    """Every fact path a trigger expression may name, e.g. 'audience.minors', 'roles'."""
    out: set[str] = set()

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            if name == "schema_":
                continue
            path = f"{prefix}{field.alias or name}"
            inner = [a for a in getattr(field.annotation, "__args__", (field.annotation,))
                     if isinstance(a, type) and issubclass(a, BaseModel)]
            if inner:
                walk(inner[0], path + ".")
            else:
                out.add(path)

    walk(Profile, "")
    return out


# Facts that follow logically from another answer: a service that does not train has no training sources;
# one that processes no personal information has no sensitive data.  They are filled in only when the profile
# leaves them out, and reported as implied so the explanation stays honest.
IMPLIED: dict[tuple[str, object], dict[str, object]] = {
    ("training_data.trains_or_fine_tunes", False): {
        "training_data.sources": [], "training_data.contains_personal_information": False,
        "training_data.contains_sensitive_personal_information": False,
        "training_data.uses_user_inputs_for_training": False, "training_data.annotation": False,
    },
    ("personal_information.processes", False): {
        "personal_information.individuals": 0, "personal_information.sensitive": False,
        "personal_information.sensitive_individuals": 0, "personal_information.minors_under_14": False,
        "personal_information.biometric": False, "personal_information.shares_or_entrusts": False,
        "personal_information.face_data_individuals": 0,
    },
    ("personal_information.biometric", False): {"personal_information.face_data_individuals": 0},
    # The old, coarse field: "no face generation or swap of any kind" settles both finer facts; "yes" does not
    # say which of the two, so they stay unknown (see _face_alias for the other direction).
    ("capabilities.real_face_swap_or_edit", True): {"capabilities.edits_real_person_biometrics": True},
    ("capabilities.edits_real_person_biometrics", False): {"capabilities.real_face_swap_or_edit": False},
    ("capabilities.face_generation_or_swap", False): {
        "capabilities.synthetic_face_generation": False, "capabilities.real_face_swap_or_edit": False},
    ("cross_border.transfers_personal_information", False): {
        "cross_border.individuals_this_year": 0, "cross_border.sensitive_individuals_this_year": 0,
    },
    ("audience.public_in_mainland", True): {"audience.research_or_internal_only": False},
}


def _face_alias(facts: dict, implied: dict[str, str]) -> None:
    """Keep the old `face_generation_or_swap` consistent with the two finer facts that replace it.

    Either finer fact true -> the coarse one is true; both false -> it is false. The coarse fact true alone
    says nothing about which kind, so the finer facts are left unknown (honest: a duty on real-face editing
    asks for `real_face_swap_or_edit` rather than guessing).
    """
    caps = facts.get("capabilities") or {}
    if caps.get("face_generation_or_swap") is not None:
        return
    syn, real = caps.get("synthetic_face_generation"), caps.get("real_face_swap_or_edit")
    value = True if (syn or real) else (False if syn is False and real is False else None)
    if value is not None:
        facts.setdefault("capabilities", {})["face_generation_or_swap"] = value
        why = "capabilities.synthetic_face_generation" if syn else (
            "capabilities.real_face_swap_or_edit" if real else
            "capabilities.synthetic_face_generation = false and capabilities.real_face_swap_or_edit")
        implied["capabilities.face_generation_or_swap"] = f"{why} = {str(bool(value)).lower()}"


def with_implied(facts: dict) -> tuple[dict, dict[str, str]]:
    """Return facts plus implied ones, and {implied path: 'because path = value'}."""
    import copy

    out = copy.deepcopy(facts)
    implied: dict[str, str] = {}

    from cnai.scope.expr import get_path

    _face_alias(out, implied)
    for (cond_path, cond_value), consequences in IMPLIED.items():
        if get_path(out, cond_path) is not cond_value:
            continue
        for path, value in consequences.items():
            if get_path(out, path) is None:
                *parents, leaf = path.split(".")
                node = out
                for p in parents:
                    node = node.setdefault(p, {})
                node[leaf] = copy.copy(value)
                implied[path] = f"{cond_path} = {str(cond_value).lower()}"
    return out, implied

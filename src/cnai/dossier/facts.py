"""Filing facts that the service profile does not hold (contacts, model name, corpus scale, annotation,
compute, service forms, algorithm disclosure...). Optional file: every fact left out becomes a visible
【待补充】 placeholder and a gap in the dossier, never invented text.

Fields follow the 上线备案表 / 登记表 fields listed in shared/reference/gbt-45654-security-assessment.md §9
(themselves secondary: cloud.tencent.cn 2553569, coloradmin.cn 2080967).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt


class _S(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Contact(_S):
    role: str = Field(description="e.g. 安全负责人, 备案联系人")
    name: str
    phone: str | None = None
    email: str | None = None


class FiledModel(_S):
    """The already-filed model a registered app calls (登记)."""
    name: str | None = None
    filing_entity: str | None = None
    filing_number: str | None = None
    authorization: str | None = Field(None, description="contract or authorisation that allows the calls")


class ModelFacts(_S):
    name: str | None = None
    version: str | None = None
    filed_model: FiledModel | None = None


class CorpusFacts(_S):
    storage_size: str | None = Field(None, description="e.g. '1.2 TB'")
    tokens: NonNegativeInt | None = None
    by_type: dict[Literal["zh_text", "en_text", "code", "image", "audio", "video", "other"], str | int] | None = None
    source_shares: dict[Literal["open_source", "self_collected", "commercial"], NonNegativeFloat] | None = None
    foreign_open_source_share: float | None = Field(None, ge=0, le=1)


class AnnotationRules(_S):
    goal: str | None = None
    data_format: str | None = None
    method: str | None = None
    quality_metrics: str | None = None
    functional_rules: str | None = None
    safety_rules: str | None = Field(None, description="must cover all 31 Appendix A risks")


class AnnotationFacts(_S):
    count: NonNegativeInt | None = None
    annotators: NonNegativeInt | None = None
    annotator_type: Literal["in_house", "outsourced", "both"] | None = None
    training_hours: NonNegativeFloat | None = None
    training_sessions: NonNegativeInt | None = None
    manual_verification_ratio: float | None = Field(None, ge=0, le=1)
    rules: AnnotationRules | None = None
    not_involved_reason: str | None = Field(None, description="why 附件3 is 不涉及 (no annotation)")


class ComputeFacts(_S):
    inference: str | None = None
    third_party_cloud: str | None = None


class AlgorithmFacts(_S):
    """拟公示内容 and the algorithm self-assessment's descriptive parts."""
    name: str | None = None
    basic_principle: str | None = None
    purpose: str | None = None
    operating_mechanism: str | None = None


class LabelingMethod(_S):
    explicit: str | None = Field(None, description="how and where the visible label is shown")
    implicit: str | None = Field(None, description="metadata label (GB 45438)")


class SafetyMeasures(_S):
    minors: str | None = None
    complaint_channels: str | None = None
    input_training_opt_out: str | None = None
    monitoring: str | None = None
    keyword_update: str | None = None
    model_update_reassessment: str | None = None


class DossierFacts(_S):
    schema_: Literal["cnai/dossier-facts/v1"] = Field(alias="schema")
    service_name: str | None = Field(None, description="must equal the profile's service.name")
    legal_representative: str | None = None
    assessment_lead: str | None = None
    contacts: list[Contact] | None = None
    model: ModelFacts | None = None
    domain: Literal["general", "limited"] | None = None
    domain_description: str | None = None
    service_forms: list[Literal["app", "web", "api", "mini_program", "other"]] | None = None
    corpus: CorpusFacts | None = None
    corpus_sources: list[str] | None = Field(
        None, description="source names an audit must cover (an audit of other sources is refused)")
    annotation: AnnotationFacts | None = None
    compute: ComputeFacts | None = None
    classifier: str | None = None
    safety_measures: SafetyMeasures | None = None
    algorithm: AlgorithmFacts | None = None
    labeling: dict[Literal["text", "image", "audio", "video", "virtual_scene", "code", "file"], LabelingMethod] | None = None


def load_facts(path: str | Path) -> DossierFacts:
    from cnai.core.loaders import load_yaml, validate

    data = load_yaml(path)
    return validate(DossierFacts, data, source=str(path), what="dossier facts")

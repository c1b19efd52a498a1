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
    name: str = Field(description="person's name as it should appear on the form")
    phone: str | None = Field(None, description="contact telephone (mobile or landline)")
    email: str | None = Field(None, description="contact e-mail address")


class FiledModel(_S):
    """The already-filed model a registered app calls (登记)."""
    name: str | None = Field(None, description="name of the filed model the app calls")
    filing_entity: str | None = Field(None, description="organisation that holds the model's filing")
    filing_number: str | None = Field(None, description="the model's filing number (备案号)")
    authorization: str | None = Field(None, description="contract or authorisation that allows the calls")


class ModelFacts(_S):
    name: str | None = Field(None, description="model name as entered on the filing form")
    version: str | None = Field(None, description="model version the assessment and the dossier describe")
    filed_model: FiledModel | None = Field(None, description="for registration (登记): the filed model the app calls")


class CorpusFacts(_S):
    storage_size: str | None = Field(None, description="e.g. '1.2 TB'")
    tokens: NonNegativeInt | None = Field(None, description="total tokens in the training data")
    by_type: dict[Literal["zh_text", "en_text", "code", "image", "audio", "video", "other"], str | int] | None = Field(
        None, description="scale per data type: a count, or a size such as '300 GB'")
    source_shares: dict[Literal["open_source", "self_collected", "commercial"], NonNegativeFloat] | None = Field(
        None, description="share of the data by source kind, each a fraction from 0 to 1")
    foreign_open_source_share: float | None = Field(None, ge=0, le=1)


class AnnotationRules(_S):
    goal: str | None = Field(None, description="what the annotation is for (附件3)")
    data_format: str | None = Field(None, description="format of the annotated data")
    method: str | None = Field(None, description="how annotation is done (manual, machine-assisted, review steps)")
    quality_metrics: str | None = Field(None, description="how annotation quality is measured and the targets")
    functional_rules: str | None = Field(
        None, description="rules for functional annotation (what the model should learn to do)")
    safety_rules: str | None = Field(None, description="must cover all 31 Appendix A risks")


class AnnotationFacts(_S):
    count: NonNegativeInt | None = Field(None, description="number of annotated items")
    annotators: NonNegativeInt | None = Field(None, description="number of annotators")
    annotator_type: Literal["in_house", "outsourced", "both"] | None = Field(
        None, description="in-house staff, an outsourced vendor, or both")
    training_hours: NonNegativeFloat | None = Field(None, description="training hours per annotator before annotating")
    training_sessions: NonNegativeInt | None = Field(None, description="number of annotator training sessions held")
    manual_verification_ratio: float | None = Field(None, ge=0, le=1)
    rules: AnnotationRules | None = Field(None, description="the annotation rules summarised in 附件3")
    not_involved_reason: str | None = Field(None, description="why 附件3 is 不涉及 (no annotation)")


class ComputeFacts(_S):
    inference: str | None = Field(
        None, description="compute used for inference (hardware and scale, in your own words)")
    third_party_cloud: str | None = Field(
        None, description="third-party cloud that hosts training or inference, if any")


class AlgorithmFacts(_S):
    """拟公示内容 and the algorithm self-assessment's descriptive parts."""
    name: str | None = Field(None, description="algorithm name as it will be disclosed")
    basic_principle: str | None = Field(None, description="how the algorithm works, in plain words")
    purpose: str | None = Field(None, description="what the algorithm is used for in the service")
    operating_mechanism: str | None = Field(
        None, description="how inputs become outputs in operation (steps, safeguards)")


class LabelingMethod(_S):
    explicit: str | None = Field(None, description="how and where the visible label is shown")
    implicit: str | None = Field(None, description="metadata label (GB 45438)")


class SafetyMeasures(_S):
    minors: str | None = Field(None, description="measures protecting minors (age checks, modes, limits)")
    complaint_channels: str | None = Field(None, description="how users complain or report, and the handling time")
    input_training_opt_out: str | None = Field(
        None, description="how users refuse the use of their inputs for training")
    monitoring: str | None = Field(None, description="how generated content and use are monitored")
    keyword_update: str | None = Field(None, description="how often and how the keyword library is updated")
    model_update_reassessment: str | None = Field(None, description="when a model update triggers a new assessment")


class DossierFacts(_S):
    schema_: Literal["cnai/dossier-facts/v1"] = Field(alias="schema")
    service_name: str | None = Field(None, description="must equal the profile's service.name")
    legal_representative: str | None = Field(None, description="legal representative who signs the commitment page")
    assessment_lead: str | None = Field(
        None, description="person responsible for the security assessment (signs with the legal representative)")
    contacts: list[Contact] | None = Field(None, description="contact people for the filing")
    model: ModelFacts | None = Field(
        None, description="the model being filed (or, for registration, the app and the filed model it calls)")
    domain: Literal["general", "limited"] | None = Field(None, description="general-purpose or limited to a domain")
    domain_description: str | None = Field(None, description="the domain, when limited")
    service_forms: list[Literal["app", "web", "api", "mini_program", "other"]] | None = Field(
        None, description="how the service is offered (app, web, API, mini-program, other)")
    corpus: CorpusFacts | None = Field(None, description="scale and make-up of the training data")
    corpus_sources: list[str] | None = Field(
        None, description="source names an audit must cover (an audit of other sources is refused)")
    annotation: AnnotationFacts | None = Field(
        None, description="data annotation (附件3); give not_involved_reason when there is none")
    compute: ComputeFacts | None = Field(None, description="compute for training and inference")
    classifier: str | None = Field(None, description="the content-safety classification model used in the assessment")
    safety_measures: SafetyMeasures | None = Field(None, description="safety measures the service runs")
    algorithm: AlgorithmFacts | None = Field(None, description="what will be disclosed about the algorithm")
    labeling: dict[Literal["text", "image", "audio", "video", "virtual_scene", "code", "file"], LabelingMethod] | None = Field(
        None, description="how each output kind is labelled (explicit and implicit)")


def load_facts(path: str | Path) -> DossierFacts:
    from cnai.core.loaders import load_yaml, validate

    data = load_yaml(path)
    return validate(DossierFacts, data, source=str(path), what="dossier facts")

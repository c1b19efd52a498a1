"""Golden expectations for the six example profiles, written from the law (each cites its article),
not from the engine's output.  Duties are looked up by the article they rest on, or by the stable
filing ids of the knowledge base."""

from tests.scope.helpers import ob, run, status, statuses

AS_OF = "2026-11-28"


class TestPublicChatbot:
    """Mainland startup, public chatbot on its own model, with a public sharing square."""

    r = run("chatbot-startup", AS_OF)

    def test_generative_ai_measures_apply(self):
        # generative-ai:2 — text generated for the public in mainland China; :22 provider includes API.
        assert statuses(self.r, "generative-ai:7") == {"applies"}  # training data lawful sources
        assert "applies" in statuses(self.r, "generative-ai:9")  # service agreement with users
        assert "applies" in statuses(self.r, "generative-ai:15")  # complaint channel

    def test_filing_and_assessment(self):
        # generative-ai:17 — public-opinion attribute -> security assessment + algorithm filing;
        # own model, so the full filing route (not registration).
        assert status(self.r, "generative-ai.security-assessment-and-filing") == "applies"
        assert status(self.r, "generative-ai.registration") == "not_applicable"
        # algorithm-recommendation:2 (generation/synthesis is an algorithm type) + :24 (public opinion)
        assert status(self.r, "algorithm-recommendation.filing") == "applies"
        assert ob(self.r, "algorithm-recommendation.filing")["due"] == "2025-03-17"  # 10 working days after 2025-03-03
        # public-opinion-assessment:3 — launching a service with public-opinion attributes
        assert status(self.r, "public-opinion-assessment.self-assessment") == "applies"

    def test_labels(self):
        # deep-synthesis:16 implicit marks; :17(1)(i) explicit labels for dialogue simulating a person
        assert "applies" in statuses(self.r, "deep-synthesis:16")
        assert "applies" in statuses(self.r, "deep-synthesis:17")
        # ai-labeling:4 explicit, :5 implicit (in force since 2025-09-01)
        assert "applies" in statuses(self.r, "ai-labeling:4")
        assert "applies" in statuses(self.r, "ai-labeling:5")

    def test_not_applicable(self):
        # anthropomorphic-ai:2 — no sustained emotional companionship
        assert status(self.r, "anthropomorphic-ai.security-assessment") == "not_applicable"
        # pi-compliance-audit:4 — 2.5M individuals is not more than 10M
        assert status(self.r, "pi-compliance-audit.regular-audit") == "not_applicable"
        # cross-border-data:7/8 — no transfer abroad
        assert status(self.r, "cross-border-data.security-assessment") == "not_applicable"
        assert status(self.r, "cross-border-data.standard-contract-or-certification") == "not_applicable"

    def test_ethics_review(self):
        # ethics-review:2 — AI R&D touching people/PI is within the review system
        assert status(self.r, "ethics-review.committee-review") == "applies"

    def test_pipia_follows_pipl_55(self):
        # pipl:55(1)(iii) — entrusting processing (cloud, annotators) needs a PIPIA
        assert status(self.r, "pipl.pipia") == "applies"
        # Without sharing: no sensitive PI (:28), no automated decisions about people (:73 — generating text on
        # request is not one), no transfer abroad -> no PIPIA duty
        r = run("chatbot-startup", AS_OF, set_={"personal_information.shares_or_entrusts": False})
        assert status(r, "pipl.pipia") == "not_applicable"


class TestImageAppOnFiledModel:
    r = run("image-app-registration", AS_OF)

    def test_registration_route(self):
        # CAC practice under generative-ai:17: an app calling a filed model registers instead of filing
        assert status(self.r, "generative-ai.registration") == "applies"
        assert status(self.r, "generative-ai.security-assessment-and-filing") == "not_applicable"

    def test_image_labels(self):
        # ai-labeling:4(3) explicit label on images; :4 last para — downloads carry the label; :5 metadata
        assert "applies" in statuses(self.r, "ai-labeling:4")
        assert "applies" in statuses(self.r, "ai-labeling:5")

    def test_no_training(self):
        # generative-ai:7 governs training-data processing; the app does not train
        assert statuses(self.r, "generative-ai:7") == {"not_applicable"}

    def test_no_public_opinion_filing(self):
        # algorithm-recommendation:24 needs public-opinion attributes
        assert status(self.r, "algorithm-recommendation.filing") == "not_applicable"


class TestShortVideoPlatform:
    r = run("short-video-platform", AS_OF)

    def test_recommendation_duties(self):
        assert status(self.r, "algorithm-recommendation.filing") == "applies"  # :24 short video = :2 of 2018
        assert "applies" in statuses(self.r, "algorithm-recommendation:16")  # transparency
        assert "applies" in statuses(self.r, "algorithm-recommendation:17")  # opt-out of personalisation
        assert "applies" in statuses(self.r, "algorithm-recommendation:18")  # minors
        assert "applies" in statuses(self.r, "algorithm-recommendation:19")  # elderly
        assert "applies" in statuses(self.r, "algorithm-recommendation:21")  # consumers, no price discrimination
        assert statuses(self.r, "algorithm-recommendation:20") == {"not_applicable"}  # no worker dispatch

    def test_platform_labeling(self):
        # ai-labeling:6 — content dissemination platform checks labels and adds propagation metadata
        assert "applies" in statuses(self.r, "ai-labeling:6")

    def test_face_effects(self):
        # deep-synthesis:14 — separate consent of the person whose face/voice is edited
        assert "applies" in statuses(self.r, "deep-synthesis:14")
        # deep-synthesis:15 — security assessment for tools editing biometric information
        assert "applies" in statuses(self.r, "deep-synthesis:15")

    def test_scale_duties(self):
        # network-data-security:44 — large platform (>= 50M registered) annual PI social-responsibility report
        assert "applies" in statuses(self.r, "network-data-security:44")
        # pi-compliance-audit:4 — more than 10M individuals: audit at least every two years
        assert status(self.r, "pi-compliance-audit.regular-audit") == "applies"
        # pipl:55(1) — sensitive PI (biometrics, under-14s) needs a PIPIA
        assert status(self.r, "pipl.pipia") == "applies"


class TestEnterpriseInternalAssistant:
    r = run("enterprise-coding-assistant", AS_OF)

    def test_generative_ai_measures_do_not_apply(self):
        # generative-ai:2 ¶3 — internal R&D/use not offered to the domestic public is outside the Measures
        gen = [o for o in self.r["obligations"] if o["instrument"] == "generative-ai"]
        assert gen and {o["status"] for o in gen} == {"not_applicable"}

    def test_no_labeling_or_filing(self):
        # ai-labeling:2 — scope excludes services not offered to the domestic public
        assert statuses(self.r, "ai-labeling:4") == {"not_applicable"}
        assert statuses(self.r, "ai-labeling:5") == {"not_applicable"}
        assert status(self.r, "algorithm-recommendation.filing") == "not_applicable"
        assert status(self.r, "deep-synthesis.filing") == "not_applicable"

    def test_pipl_still_applies_to_employee_data(self):
        # pipl:51 — a PI handler must take security measures whatever the service
        assert "applies" in statuses(self.r, "pipl:51")


class TestForeignApiProvider:
    r = run("foreign-api-provider", AS_OF)

    def test_api_provider_is_a_provider(self):
        # generative-ai:22 — offering generative AI through an API makes you a provider; :2 public in China
        assert statuses(self.r, "generative-ai:7") == {"applies"}
        # generative-ai:17 only for public-opinion services
        assert status(self.r, "generative-ai.security-assessment-and-filing") == "not_applicable"

    def test_cross_border(self):
        # cross-border-data:8 — non-CIIO, 100k..1M individuals (non-sensitive) since 1 Jan: standard contract
        assert status(self.r, "cross-border-data.standard-contract-or-certification") == "applies"
        assert status(self.r, "cross-border-data.security-assessment") == "not_applicable"
        # pipl:39 separate consent; pipl:55(4) PIPIA for cross-border transfer
        assert "applies" in statuses(self.r, "pipl:39")
        assert status(self.r, "pipl.pipia") == "applies"

    def test_unlabeled_output_logs(self):
        # ai-labeling:9 — unlabelled output on request only with agreement terms and logs >= 6 months
        assert "applies" in statuses(self.r, "ai-labeling:9")


class TestCompanionAppForTeens:
    r = run("companion-app-teens", AS_OF)

    def test_anthropomorphic_measures(self):
        # anthropomorphic-ai:2 sustained emotional interaction; >= 1M registered users -> security assessment
        assert status(self.r, "anthropomorphic-ai.security-assessment") == "applies"
        anthro = [o for o in self.r["obligations"] if o["instrument"] == "anthropomorphic-ai"]
        assert sum(o["status"] == "applies" for o in anthro) >= 5

    def test_minors(self):
        # algorithm-recommendation:18 minors mode; pipl:31 guardian consent for under-14s
        assert "applies" in statuses(self.r, "algorithm-recommendation:18")
        assert "applies" in statuses(self.r, "pipl:31")

    def test_ethics_expert_rereview(self):
        # ethics-review annex — human-machine systems strongly influencing emotions: expert re-review
        assert status(self.r, "ethics-review.expert-rereview") == "applies"

    def test_explicit_labels_for_simulated_person_and_voice(self):
        # deep-synthesis:17(1)(i)-(ii)
        assert "applies" in statuses(self.r, "deep-synthesis:17")

    def test_synthetic_character_voices_need_no_third_party_consent(self):
        # deep-synthesis:14 — separate consent concerns editing a real person's face or voice; the app only
        # synthesises its own characters' voices. Art. 15 (tools generating voices) still calls for an assessment.
        assert status(self.r, "deep-synthesis.biometric-consent") == "not_applicable"
        assert status(self.r, "deep-synthesis.security-assessment") == "applies"

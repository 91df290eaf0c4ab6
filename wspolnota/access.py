"""Who may open what: every endpoint of every service, by role (default deny).

An entry is PUBLIC, or {"read": roles, "write": roles}: GET/HEAD/OPTIONS need a "read" role, every other
method a "write" role. An endpoint missing here answers 403 to everyone (tests/unit/test_access_matrix.py
fails until it is listed). The auditor never writes; only admin manages users (the front door's /auth/users).
"""
from __future__ import annotations

from typing import Any

OSL, SOCIAL_WORKER, IPUS, DIRECTOR, ADMIN, AUDITOR = (
    "osl", "social_worker", "ipus_coordinator", "director", "admin", "auditor")
ROLES = (OSL, SOCIAL_WORKER, IPUS, DIRECTOR, ADMIN, AUDITOR)
ROLE_PL = {
    OSL: "organizator społeczności lokalnej (OSL)",
    SOCIAL_WORKER: "pracownik socjalny",
    IPUS: "koordynator IPUS",
    DIRECTOR: "dyrektor CUS",
    ADMIN: "administrator",
    AUDITOR: "audytor (tylko odczyt)",
}
PUBLIC = "public"
STAFF = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()


def rw(read: frozenset[str] | set[str], write: frozenset[str] | set[str]) -> dict[str, frozenset[str]]:
    return {"read": frozenset(read), "write": frozenset(write)}


# The same in every service (wspolnota/web.py adds these routes).
COMMON: dict[str, Any] = {
    "static": PUBLIC, "common.static": PUBLIC, "healthz": PUBLIC, "readyz": PUBLIC,
    "metrics": PUBLIC,  # the internal network's scrape target; nginx hides it from the public URL
    "api-docs.openapi_json": rw(STAFF, NOBODY),
}

CASE_WRITE = {OSL, SOCIAL_WORKER, IPUS, DIRECTOR, ADMIN}
PLAN_WRITE = {SOCIAL_WORKER, IPUS, DIRECTOR, ADMIN}
OFFICE_JOBS = {OSL, IPUS, ADMIN}
VOLUNTEER_WRITE = {OSL, DIRECTOR, ADMIN}
DECIDE = {OSL, SOCIAL_WORKER, IPUS, DIRECTOR, ADMIN}
MODERATE = {OSL, DIRECTOR, ADMIN}
NOTIFY_READ = {OSL, IPUS, DIRECTOR, ADMIN, AUDITOR}
NOTIFY_WRITE = {OSL, ADMIN}
CALLERS = {OSL, SOCIAL_WORKER, IPUS, ADMIN}  # staff who phone residents their notices (the phone: audited in needs)
# Criminal-record details (the Kamilka check: register result, KRK dates, countries, who checked) are read only by
# these roles; every other role sees "may work with minors: yes/no, until DATE" (docs/security.md).
CRIMINAL_RECORD_READ = frozenset({OSL, DIRECTOR, ADMIN})
AUDIT_READ = {AUDITOR, ADMIN, DIRECTOR}  # the volunteers' audit log, as the needs one
REQUEST_TRIAGE = {OSL, SOCIAL_WORKER, DIRECTOR, ADMIN}  # residents' requests for help: read, decide, take calls

# Community organising: the organiser edits everything; the director approves plans; everyone else reads.
COMMUNITY_EDIT = {OSL, ADMIN}
_COMMUNITY = rw(STAFF, COMMUNITY_EDIT)
PLAN_APPROVE = {DIRECTOR, ADMIN}

_NEEDS_CASES = rw(STAFF, CASE_WRITE)
_NEEDS_PLANS = rw(STAFF, PLAN_WRITE)

POLICIES: dict[str, dict[str, Any]] = {
    "needs": {
        **COMMON,
        "api_docs": rw(STAFF, NOBODY),
        "needs_api.NeedCollection": _NEEDS_CASES,
        "needs_internal_api.visit_contact": PUBLIC,  # the service-to-service API (its own bearer token)
        "needs_api.RecurringNeeds": _NEEDS_CASES,
        "needs_api.ExpireOverdue": rw(NOBODY, OFFICE_JOBS),
        "needs_api.NeedItem": _NEEDS_CASES,
        "needs_api.NeedCancel": _NEEDS_CASES,
        "needs_api.NeedStatus": _NEEDS_CASES,
        "needs_api.NeedTimeline": _NEEDS_CASES,
        "needs_api.ResidentCollection": _NEEDS_CASES,
        "needs_api.ResidentItem": _NEEDS_CASES,
        "needs_api.ResidentErase": rw(NOBODY, CASE_WRITE),  # RODO art. 17 (docs/security.md)
        "needs_api.PackageCollection": _NEEDS_PLANS,
        "needs_api.PackageItem": _NEEDS_PLANS,
        "needs_api.PackageClose": _NEEDS_PLANS,
        "needs_api.Reference": rw(STAFF, NOBODY),
        "needs.index": _NEEDS_CASES,
        "needs.new_need": _NEEDS_CASES,
        "needs.need_page": _NEEDS_CASES,
        "needs.edit_need": _NEEDS_CASES,
        "needs.cancel_need": _NEEDS_CASES,
        "needs.need_status": _NEEDS_CASES,
        "needs.resident_list": _NEEDS_CASES,
        "needs.new_resident": _NEEDS_CASES,
        "needs.resident_card": _NEEDS_CASES,
        "needs.edit_resident": _NEEDS_CASES,
        "needs.erase_resident": rw(CASE_WRITE, CASE_WRITE),  # the confirmation step and the erasure
        "needs.package_list": _NEEDS_PLANS,
        "needs.new_package": _NEEDS_PLANS,
        "needs.package_page": _NEEDS_PLANS,
        "needs.close_package": _NEEDS_PLANS,
        "needs.reference_page": rw(STAFF, NOBODY),
        "needs.audit_page": rw({AUDITOR, ADMIN, DIRECTOR}, NOBODY),
        # concerns about residents (services/needs/concern_pages.py): the text is read and taken over by those
        # who work on cases; the internal API takes the service token, the list API gives no text
        "needs_concerns_internal.report": PUBLIC,
        "needs_concerns_internal.recipient": PUBLIC,
        "needs_notices_internal.notice_contact": PUBLIC,  # notify asks for a resident's notice contact (its token)
        "needs_feedback_internal.feedback_contact": PUBLIC,  # notify's feedback request SMS (the service token)
        "needs_concerns_api.concern_list": rw(STAFF, NOBODY),
        "needs_concerns.concern_page_list": rw(STAFF, NOBODY),
        "needs_concerns.concern_page": rw(CASE_WRITE, NOBODY),
        "needs_concerns.acknowledge": rw(NOBODY, CASE_WRITE),
        "needs_concerns.intake": rw(CASE_WRITE, CASE_WRITE),
        "needs_concerns.social_worker": rw(CASE_WRITE, CASE_WRITE),
        # requests for help from residents and families (services/needs/request_pages.py): the public form (no
        # account, rate-limited), the triage queue and its decisions for the organiser, social workers and the
        # director; the list API gives no personal data; the internal API takes the service token
        "needs_requests_public.public_request": PUBLIC,
        "needs_requests_public.public_request_done": PUBLIC,
        "needs_requests_internal.requester_contact": PUBLIC,
        "needs_requests_api.request_list": rw(STAFF, NOBODY),
        "needs_requests.request_queue": rw(REQUEST_TRIAGE, NOBODY),
        "needs_requests.request_page": rw(REQUEST_TRIAGE, NOBODY),
        "needs_requests.request_intake": rw(REQUEST_TRIAGE, REQUEST_TRIAGE),
        "needs_requests.convert_request": rw(REQUEST_TRIAGE, REQUEST_TRIAGE),
        "needs_requests.close_request": rw(NOBODY, REQUEST_TRIAGE),
        # "is it still needed?" (services/needs/need_check_pages.py): the internal API takes the service token
        "needs_checks_internal.check_recipient": PUBLIC,
        "needs_checks_api.overdue": rw(STAFF, NOBODY),
        "needs_checks.decide": rw(CASE_WRITE, CASE_WRITE),
        # well-being call series (services/needs/call_pages.py): set up, reviewed and ended by those who write cases
        "needs_calls_internal.record_outcome": PUBLIC,  # the service-to-service API (its own bearer token)
        "needs_calls_internal.recipient": PUBLIC,
        "needs_calls_api.attention": rw(STAFF, NOBODY),
        "needs_calls.series_list": rw(STAFF, NOBODY),
        "needs_calls.set_up": rw(CASE_WRITE, CASE_WRITE),
        "needs_calls.series_page": rw(CASE_WRITE, NOBODY),
        "needs_calls.series_review": rw(NOBODY, CASE_WRITE),
        "needs_calls.series_end": rw(NOBODY, CASE_WRITE),
        "needs_calls.escalation_resolved": rw(NOBODY, CASE_WRITE),
        "needs_concerns.close": rw(NOBODY, CASE_WRITE),
        "needs_feedback.log_call_page": rw(NOBODY, CASE_WRITE),
        # the case system's API: its own bearer keys, scopes and rate limits (services/needs/caseapi.py)
        **{f"case_system_api.{name}": PUBLIC for name in (
            "CaseNeeds", "CaseNeedItem", "CaseNeedCancel", "CaseImports", "DeliveredExport")},
        "case_system.case_system": rw(STAFF, NOBODY),
        "case_system.import_csv": rw(NOBODY, CASE_WRITE),
        "case_system.delivered_csv": rw(STAFF, NOBODY),
        "case_system.add_client": rw(NOBODY, {ADMIN}),
        "case_system.revoke_client": rw(NOBODY, {ADMIN}),
    },
    "volunteers": {
        **COMMON,
        **{name: rw(STAFF, VOLUNTEER_WRITE) for name in (
            "volunteers_api.VolunteerCollection", "volunteers_api.VolunteerItem", "volunteers_api.verify_volunteer",
            "volunteers_api.pause_volunteer", "volunteers_api.resume_volunteer", "volunteers_api.erase_volunteer",
            "volunteers_api.CredentialCollection", "volunteers_api.revoke_credential", "volunteers_api.add_exception",
            "volunteers_api.OfferCollection", "offers_api.withdraw", "credentials_api.expiring",
            "volunteers_api.provider_hours",
            "volunteers.index", "volunteers.new_provider", "volunteers.edit_provider", "volunteers.profile",
            "volunteers.add_credential", "volunteers.add_exception_page", "volunteers.add_offer",
            "volunteers.verify", "volunteers.pause_page", "volunteers.resume_page", "volunteers.erase_page",
            "volunteers.withdraw_page", "volunteers.revoke_credential_page")},
        # the public's own pages and the service-to-service API (its own bearer token)
        "registration.self_registration": PUBLIC, "registration.self_registration_done": PUBLIC,
        "registration.confirm_email": PUBLIC,
        # the volunteer's own space: no staff role; its own sign-in by link and session (services/volunteers/sign_in.py)
        **{f"volunteer_space.{name}": PUBLIC for name in (
            "sign_in_page", "link_sent", "use_link", "sign_out", "sign_out_everywhere", "home", "availability",
            "add_absence", "delete_absence", "pause", "resume", "where",
            "visits_page", "visit_answer", "visit_step_back", "visit_confirm", "self_certificate")},
        **{f"volunteer_space.{name}": PUBLIC for name in (  # hours and documents; concerns (their own session)
            "own_hours", "own_certificate", "own_export", "general_concern", "visit_concern", "messages",
            "call_outcome")},
        "volunteer_space.visit_feedback_page": PUBLIC,  # the volunteer's feedback on a visit (their own session)
        "engagement.milestone_list": rw(STAFF, NOBODY),
        "internal_api.contact": PUBLIC,
        "volunteers.audit_page": rw(AUDIT_READ, NOBODY),
        # documents about one person for a period (the certificate of volunteering, the hours export): issued
        # by those who keep the volunteers' register, each issue audited
        "certificates.certificate": rw(NOBODY, VOLUNTEER_WRITE),
        "certificates.hours_export": rw(NOBODY, VOLUNTEER_WRITE),
        "certificates_api.CertificateDocument": rw(VOLUNTEER_WRITE, NOBODY),
        "certificates_api.HoursExport": rw(VOLUNTEER_WRITE, NOBODY),
        "audit_api.audit_log": rw(AUDIT_READ, NOBODY),
    },
    "matching": {
        **COMMON,
        "matching_api.ProposalCollection": rw(STAFF, NOBODY),
        "matching_api.MatchItem": rw(STAFF, NOBODY),
        "matching_api.api_approve": rw(NOBODY, DECIDE),
        "matching_api.api_reject": rw(NOBODY, DECIDE),
        "matching_api.api_pick": rw(NOBODY, DECIDE),
        "matching_api.api_complete": rw(NOBODY, DECIDE),
        "matching_api.api_moderation": rw(NOBODY, MODERATE),
        "matching_api.api_step_back": rw(NOBODY, DECIDE),
        "matching_api.StepBackCollection": rw(STAFF, NOBODY),
        "matching.index": rw(STAFF, NOBODY),
        "matching.match_detail": rw(STAFF, NOBODY),
        "matching.helper_activity": rw(STAFF, NOBODY),
        "matching.approve": rw(NOBODY, DECIDE),
        "matching.reject": rw(NOBODY, DECIDE),
        "matching.pick": rw(NOBODY, DECIDE),
        "matching.complete": rw(NOBODY, DECIDE),
        "matching.not_happened": rw(NOBODY, DECIDE),
        "matching_visit_checks_api.OverdueVisits": rw(STAFF, NOBODY),
        "matching.moderation_page": rw(STAFF, MODERATE),
        "matching_feedback_api.feedback_list": rw(STAFF, NOBODY),  # scores and codes, never notes
        "matching_feedback.mark_seen": rw(NOBODY, DECIDE),
        # reports and the village map: counts and pseudonyms only, readable by all staff
        **{f"reports.{name}": rw(STAFF, NOBODY)
           for name in ("index", "report", "export_csv", "export_xlsx", "village_map")},
    },
    "notify": {
        **COMMON,
        "notify_api.NotificationCollection": rw(NOTIFY_READ, NOBODY),
        "notify_api.FailedNotifications": rw(NOTIFY_READ, NOBODY),
        "notify.index": rw(NOTIFY_READ, NOBODY),
        "notify.retry_failed": rw(NOBODY, NOTIFY_WRITE),
        "notify.resolve_failed": rw(NOBODY, NOTIFY_WRITE),
        "notify.test_inbox": rw({OSL, ADMIN}, NOBODY),
        "notify.provider_response": PUBLIC,  # the provider's signed link
        "notify_checks.visit_check": PUBLIC,  # "did it happen?": the provider's signed link, rate-limited
        "notify_checks.need_check": PUBLIC,  # "is it still needed?": the worker's signed link, rate-limited
        # residents' notices staff phone ("Do zadzwonienia"): the list (a script, no contact) and, for those who
        # call, one task with the phone (read from needs, audited there); the dashboard's count without contacts
        "notify_calls.call_list": rw(NOTIFY_READ | {SOCIAL_WORKER}, NOBODY),
        "notify_calls.call_task": rw(CALLERS, CALLERS),
        "notify_calls_api.calls_due": rw(STAFF, NOBODY),
        "notify_sms_inbound.sms_inbound": PUBLIC,  # the SMS gateway: its own bearer token, rate-limited
    },
    "community": {
        **COMMON,
        "community_api.Reference": rw(STAFF, NOBODY),
        **{f"community_api.{name}": _COMMUNITY for name in (
            "AssetCollection", "AssetItem", "SurveyCollection", "SurveyItem", "SurveyQuestions", "SurveyPublish",
            "SurveyClose", "SurveyResponses", "SurveyResults", "DiagnosisCollection", "DiagnosisItem")},
        "community.index": rw(STAFF, NOBODY),
        # diagnosis: the assets register
        **{f"community.{name}": _COMMUNITY for name in ("asset_list", "new_asset", "edit_asset", "remove_asset")},
        # the organising plan, activities, self-help groups and partners (the director approves plan versions)
        **{f"community_plan_api.{name}": _COMMUNITY for name in (
            "Plans", "PlanItem", "PlanGoals", "PlanActions", "ActionProgress", "ActionPartners", "PlanIndicators",
            "IndicatorValue", "PlanVersion", "PlanReport", "Activities", "ActivityItem", "ActivityCancel",
            "ActivityRegistrations", "ActivityRegistrationItem", "ActivityAnnouncements", "ActivityHelpers",
            "ActivityAttendance", "Groups", "GroupItem", "GroupMembers", "GroupMeetings", "Partners", "PartnerItem",
            "PartnerAgreements", "PartnerLog", "PartnerCooperation", "Overview")},
        "community_plan_api.PlanApprove": rw(NOBODY, PLAN_APPROVE),
        **{f"community_plan.{name}": _COMMUNITY for name in (
            "plan_list", "plan_page", "new_action", "new_indicator", "action_progress", "plan_version",
            "yearly_report", "activity_list", "activity_page", "edit_activity", "remove_registration",
            "attendance", "cancel_activity", "group_list",
            "group_page", "partner_list", "partner_page", "partner_cooperation")},
        "community_plan.approve_plan": rw(NOBODY, PLAN_APPROVE),
        # a resident's registration through the activity's public link: no account, rate-limited
        "community_public.public_registration": PUBLIC,
        "community_public_api.PublicRegistration": PUBLIC,
        "community_internal_api.registration_contact": PUBLIC,  # the service-to-service API (its bearer token)
        # diagnosis: surveys (contact details left for follow-up: the organiser only, every read audited)
        **{f"community.{name}": _COMMUNITY for name in (
            "survey_list", "new_survey", "survey_page", "add_question", "remove_question", "publish_survey",
            "close_survey", "issue_tokens", "paper_entry", "survey_results", "survey_export")},
        "community.survey_contacts": rw(COMMUNITY_EDIT, NOBODY),
        "community.erase_contact": rw(NOBODY, COMMUNITY_EDIT),
        "community.public_survey": PUBLIC,  # the respondents' page: no account, rate-limited
        # diagnosis: the versioned report
        "community.diagnosis_list": _COMMUNITY,
        "community.diagnosis_page": rw(STAFF, NOBODY),
    },
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def allowed_roles(service: str, endpoint: str | None, method: str) -> frozenset[str] | str:
    """PUBLIC, or the roles that may call `endpoint` with `method` (empty: nobody)."""
    entry = POLICIES.get(service, {}).get(endpoint or "")
    if entry is None:
        return NOBODY
    if entry == PUBLIC:
        return PUBLIC
    return entry["read" if method.upper() in SAFE_METHODS else "write"]

"""A minimal download of the certificate of volunteering from the volunteer's own space: this calendar year so far
(Warsaw days), as the PDF staff issue (services/volunteers/certificates.py), audited with the volunteer as the
actor. A fuller page of hours and periods may replace it."""
from __future__ import annotations

from datetime import date

from flask import Response, flash, redirect, url_for

from services.volunteers import certificates, sign_in, signed_in
from services.volunteers.volunteer_space import bp, signed_in_volunteer
from wspolnota import errors
from wspolnota.web import current_parts

ISSUED_BY = "wydruk z konta wolontariusza"
ENDPOINTS = ("self_certificate",)  # PUBLIC in wspolnota/access.py


@bp.get("/zaswiadczenie.pdf")
def self_certificate():  # type: ignore[no-untyped-def]
    volunteer = signed_in_volunteer()
    today = signed_in.today()
    try:
        with current_parts().db.transaction() as session:
            pdf = certificates.certificate_pdf(session, volunteer["id"], date(today.year, 1, 1), today, ISSUED_BY,
                                               actor=sign_in.actor(volunteer["id"]), settings=signed_in.settings(),
                                               issued_on=today)
    except (errors.Refused, errors.Invalid) as err:
        flash(err.message or str(err), "error")
        return redirect(url_for(".home"))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="zaswiadczenie-{today.year}.pdf"'})

"""The sign-in and staff-account forms (Polish labels and messages; translated in the templates)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from wspolnota import access

ROLE_CHOICES = [SelectChoice(r, access.ROLE_PL[r]) for r in access.ROLES]


class SignInForm(FlaskForm):  # type: ignore[misc]
    login = StringField("Login", validators=[DataRequired("Podaj login.")])
    password = PasswordField("Hasło", validators=[DataRequired("Podaj hasło.")])


class SignOutForm(FlaskForm):  # type: ignore[misc]
    pass


class NewUserForm(FlaskForm):  # type: ignore[misc]
    login = StringField("Login", validators=[DataRequired("Podaj login."), Length(2, 64, "Login: 2–64 znaki.")])
    display_name = StringField("Imię i nazwisko", validators=[Optional(), Length(max=120)])
    role = SelectField("Rola", choices=ROLE_CHOICES)
    password = PasswordField("Hasło (co najmniej 12 znaków)",
                             validators=[DataRequired("Podaj hasło."), Length(min=12, message="Hasło musi mieć "
                                                                              "co najmniej 12 znaków.")])


class EditUserForm(FlaskForm):  # type: ignore[misc]
    role = SelectField("Rola", choices=ROLE_CHOICES)
    active = BooleanField("Konto aktywne")
    unlock = BooleanField("Odblokuj (wyzeruj nieudane próby)")
    password = PasswordField("Nowe hasło (puste: bez zmiany)",
                             validators=[Optional(), Length(min=12, message="Hasło musi mieć co najmniej "
                                                                            "12 znaków.")])

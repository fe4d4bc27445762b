"""The national register: one pseudonymised, minimal record per case, in its own database
(register.routers). No name, identity number, address, free text or threat detail; quarters
instead of dates, the county (län) instead of the municipality, an age band instead of a birth
date. Every value is a code.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegisterRecord(models.Model):
    # HMAC-SHA-256 of the identity number under the register's key: the same person has the
    # same pseudonym whichever municipality registered them, and nobody without the key can
    # compute it from a number.
    pseudonym = models.CharField(_("pseudonym"), max_length=64, db_index=True)
    # HMAC of the case's id under the same key: which record a case updates, without the
    # register holding the municipal id.
    case_key = models.CharField(max_length=64, unique=True)
    region = models.CharField(_("län"), max_length=100)
    age_band = models.CharField(_("åldersgrupp"), max_length=8)  # at first contact
    gender = models.CharField(_("kön"), max_length=16)
    opened_quarter = models.CharField(_("aktualiserat kvartal"), max_length=6)  # 2025Q3
    status = models.CharField(_("status"), max_length=32)
    ended_quarter = models.CharField(_("avslutat kvartal"), max_length=6, blank=True)
    outcome = models.CharField(_("utfall"), max_length=32, blank=True)  # the end reason code
    relocated = models.BooleanField(_("omplacerad"), default=False)
    # [{"kind": code, "start": quarter, "end": quarter}], [{"status": code, "quarter": ...}]
    interventions = models.JSONField(_("insatser"), default=list)
    status_changes = models.JSONField(_("statusändringar"), default=list)
    # [{"months": 6, "anchor": "closed", "quarter": quarter recorded, "stable_housing": "yes",
    #   ...}]: the structured outcomes at follow-up (method), answers as codes.
    follow_ups = models.JSONField(_("uppföljningar"), default=list)
    # Of the values above: a build rewrites a record only when it changed.
    digest = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("registerpost")
        verbose_name_plural = _("registerposter")

    def __str__(self) -> str:
        return f"{self.pseudonym[:12]} {self.opened_quarter}"


class RegisterBuild(models.Model):
    """One run of the build: when, and how many records it made, changed and removed."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"

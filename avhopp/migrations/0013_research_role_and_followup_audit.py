"""Research: a new kind of agency, the research principal, with the role researcher, and the
follow-up events of the audit log (statistics, quarterly reports, the national register and
research extracts).

The database's copy of the roles by agency kind gains the new kind, built on the previous copy
(migration 0011) as that one was on 0008: PostgreSQL's function is replaced, SQLite's triggers
are made again.
"""

import importlib

from django.db import migrations, models

from avhopp.migration_sql import sql_per_vendor

_BEFORE = importlib.import_module("avhopp.migrations.0011_archive_officer_and_retention_events")
_ORIGINAL = importlib.import_module("avhopp.migrations.0004_roles_fit_agency_kind")
_FUNCTION = importlib.import_module("avhopp.migrations.0008_national_coordination")._function
ROLES_BY_AGENCY_KIND = {
    **_BEFORE.ROLES_BY_AGENCY_KIND,
    "research": ("researcher", "log_reviewer", "agency_admin"),
}
PAIRS = ", ".join(
    f"'{kind}:{role}'" for kind, roles in ROLES_BY_AGENCY_KIND.items() for role in roles
)


def _sqlite_triggers(pairs: str) -> list[str]:
    return [
        *_ORIGINAL.SQLITE_DOWN,
        *(s.replace(_ORIGINAL.PAIRS, pairs) for s in _ORIGINAL.SQLITE_UP),
    ]


class Migration(migrations.Migration):

    dependencies = [
        ('avhopp', '0012_choices_of_merged_features'),
    ]

    operations = [
        migrations.AlterField(
            model_name='agency',
            name='kind',
            field=models.CharField(choices=[('social_services', 'Socialtjänst (kommun)'), ('police', 'Polisen'), ('prison_probation', 'Kriminalvården'), ('sis', 'Statens institutionsstyrelse (SiS)'), ('socialstyrelsen', 'Socialstyrelsen'), ('civil_society', 'Civilsamhällesorganisation'), ('national_coordination', 'Nationell samordning'), ('other', 'Annan'), ('research', 'Forskningshuvudman')], max_length=32, verbose_name='typ'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('login', 'Inloggning'), ('logout', 'Utloggning'), ('login_failed', 'Misslyckad inloggning'), ('access_denied', 'Nekad åtkomst'), ('case_list', 'Ärendelista'), ('case_search', 'Sökning'), ('case_view', 'Läst ärende'), ('case_create', 'Skapat ärende'), ('case_update', 'Ändrat ärende'), ('case_status', 'Ändrat status'), ('outside_assignment', 'Läsning utanför uppdrag'), ('individual_create', 'Registrerat person'), ('individual_update', 'Ändrat person'), ('identity_reveal', 'Visat skyddade uppgifter'), ('identity_collision', 'Registrering nekad'), ('intervention_create', 'Lagt till insats'), ('intervention_update', 'Ändrat insats'), ('journal_create', 'Journalanteckning'), ('threat_create', 'Ny hotbedömning'), ('threat_details_view', 'Läst hotbedömningens detaljer'), ('consent_create', 'Registrerat samtycke'), ('consent_withdraw', 'Återkallat samtycke'), ('case_share', 'Delat ärende'), ('case_unshare', 'Slutat dela ärende'), ('referral_create', 'Skapat remiss'), ('referral_view', 'Läst remiss'), ('referral_answer', 'Besvarat remiss'), ('referral_send', 'Skickat remiss'), ('document_download', 'Laddat ned dokument'), ('audit_view', 'Läst loggen'), ('audit_export', 'Exporterat loggen'), ('user_create', 'Skapat användare'), ('user_update', 'Ändrat användare'), ('user_sessions_ended', 'Avslutat användarens sessioner'), ('2fa_enrolled', 'Registrerat tvåfaktorsinloggning'), ('2fa_failed', 'Felaktig engångskod'), ('session_expired', 'Sessionen gick ut'), ('reauthenticated', 'Bekräftat identitet'), ('admin_change', 'Ändrat i administrationen'), ('referral_list', 'Remisslista'), ('relocation_request', 'Begärt omplacering'), ('relocation_step', 'Omplacering: nytt steg'), ('relocation_view', 'Läst omplacering'), ('destination_view', 'Läst omplaceringens destination'), ('statistics_view', 'Läst statistik'), ('report_create', 'Beställt kvartalsrapport'), ('report_download', 'Laddat ned kvartalsrapport'), ('register_build', 'Byggt det nationella registret'), ('register_view', 'Läst registrets översikt'), ('extract_request', 'Begärt forskningsuttag'), ('extract_decision', 'Beslutat om forskningsuttag'), ('extract_build', 'Byggt forskningsuttag'), ('extract_view', 'Läst forskningsuttag'), ('extract_download', 'Laddat ned forskningsuttag')], max_length=32, verbose_name='händelse'),
        ),
        migrations.AlterField(
            model_name='user',
            name='role',
            field=models.CharField(blank=True, choices=[('social_worker', 'Handläggare'), ('coordinator', 'Samordnare'), ('police_officer', 'Polis'), ('log_reviewer', 'Loggkontrollant'), ('agency_admin', 'Myndighetsadministratör'), ('national_coordinator', 'Nationell samordnare'), ('researcher', 'Forskare')], max_length=32, verbose_name='roll'),
        ),
        sql_per_vendor(
            {"postgresql": [_FUNCTION(PAIRS)], "sqlite": _sqlite_triggers(PAIRS)},
            {
                "postgresql": [_FUNCTION(_BEFORE.PAIRS)],
                "sqlite": _sqlite_triggers(_BEFORE.PAIRS),
            },
        ),
    ]

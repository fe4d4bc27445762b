"""The national coordination: a new kind of agency with the role national coordinator, each
municipality's police region (which clears relocations to it), and the relocation events of
the audit log.

The database's copy of the roles by agency kind (migration 0004) gains the new kind: its
table is a frozen copy of avhopp.models.ROLES_BY_AGENCY_KIND as it is now. PostgreSQL's
function is replaced; SQLite's triggers, which hold the pairs inline, are made again.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

from avhopp.migration_sql import postgresql_only, sql_per_vendor

_BEFORE = importlib.import_module("avhopp.migrations.0004_roles_fit_agency_kind")
ROLES_BY_AGENCY_KIND = {
    **_BEFORE.ROLES_BY_AGENCY_KIND,
    "national_coordination": ("national_coordinator", "log_reviewer", "agency_admin"),
}
PAIRS = ", ".join(
    f"'{kind}:{role}'" for kind, roles in ROLES_BY_AGENCY_KIND.items() for role in roles
)


def _function(pairs: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION avhopp_role_fits_kind(kind text, role text)
        RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT kind || ':' || role IN ({pairs}) $$;"""


def _sqlite_triggers(pairs: str) -> list[str]:
    return [*_BEFORE.SQLITE_DOWN, *(s.replace(_BEFORE.PAIRS, pairs) for s in _BEFORE.SQLITE_UP)]


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('avhopp', '0007_audit_shown_cases'),
    ]

    operations = [
        migrations.AddField(
            model_name='agency',
            name='police_region',
            field=models.ForeignKey(blank=True, limit_choices_to={'kind': 'police'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='covered_municipalities', to='avhopp.agency', verbose_name='polisregion'),
        ),
        migrations.AlterField(
            model_name='agency',
            name='kind',
            field=models.CharField(choices=[('social_services', 'Socialtjänst (kommun)'), ('police', 'Polisen'), ('prison_probation', 'Kriminalvården'), ('sis', 'Statens institutionsstyrelse (SiS)'), ('socialstyrelsen', 'Socialstyrelsen'), ('civil_society', 'Civilsamhällesorganisation'), ('national_coordination', 'Nationell samordning'), ('other', 'Annan')], max_length=32, verbose_name='typ'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('login', 'Inloggning'), ('logout', 'Utloggning'), ('login_failed', 'Misslyckad inloggning'), ('access_denied', 'Nekad åtkomst'), ('case_list', 'Ärendelista'), ('case_search', 'Sökning'), ('case_view', 'Läst ärende'), ('case_create', 'Skapat ärende'), ('case_update', 'Ändrat ärende'), ('case_status', 'Ändrat status'), ('outside_assignment', 'Läsning utanför uppdrag'), ('individual_create', 'Registrerat person'), ('individual_update', 'Ändrat person'), ('identity_reveal', 'Visat skyddade uppgifter'), ('identity_collision', 'Registrering nekad'), ('intervention_create', 'Lagt till insats'), ('intervention_update', 'Ändrat insats'), ('journal_create', 'Journalanteckning'), ('threat_create', 'Ny hotbedömning'), ('threat_details_view', 'Läst hotbedömningens detaljer'), ('consent_create', 'Registrerat samtycke'), ('consent_withdraw', 'Återkallat samtycke'), ('case_share', 'Delat ärende'), ('case_unshare', 'Slutat dela ärende'), ('referral_create', 'Skapat remiss'), ('referral_view', 'Läst remiss'), ('referral_answer', 'Besvarat remiss'), ('referral_send', 'Skickat remiss'), ('document_download', 'Laddat ned dokument'), ('audit_view', 'Läst loggen'), ('audit_export', 'Exporterat loggen'), ('user_create', 'Skapat användare'), ('user_update', 'Ändrat användare'), ('user_sessions_ended', 'Avslutat användarens sessioner'), ('2fa_enrolled', 'Registrerat tvåfaktorsinloggning'), ('2fa_failed', 'Felaktig engångskod'), ('session_expired', 'Sessionen gick ut'), ('reauthenticated', 'Bekräftat identitet'), ('admin_change', 'Ändrat i administrationen'), ('referral_list', 'Remisslista'), ('relocation_request', 'Begärt omplacering'), ('relocation_step', 'Omplacering: nytt steg'), ('relocation_view', 'Läst omplacering'), ('destination_view', 'Läst omplaceringens destination')], max_length=32, verbose_name='händelse'),
        ),
        migrations.AlterField(
            model_name='user',
            name='role',
            field=models.CharField(blank=True, choices=[('social_worker', 'Handläggare'), ('coordinator', 'Samordnare'), ('police_officer', 'Polis'), ('log_reviewer', 'Loggkontrollant'), ('agency_admin', 'Myndighetsadministratör'), ('national_coordinator', 'Nationell samordnare')], max_length=32, verbose_name='roll'),
        ),
        # In the database on PostgreSQL only: SQLite would rebuild the agency table for a
        # check, which the role triggers (and cases' owner trigger) on it do not survive.
        # The embedded SQLite default keeps the rule in Agency.clean.
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.AddConstraint(
                model_name='agency',
                constraint=models.CheckConstraint(condition=models.Q(('police_region__isnull', True), ('kind', 'social_services'), _connector='OR'), name='agency_only_municipality_has_police_region'),
            ),
            ],
            database_operations=[
                postgresql_only(
                    [
                        "ALTER TABLE avhopp_agency ADD CONSTRAINT"
                        " agency_only_municipality_has_police_region"
                        " CHECK (police_region_id IS NULL OR kind = 'social_services')"
                    ],
                    [
                        "ALTER TABLE avhopp_agency DROP CONSTRAINT"
                        " agency_only_municipality_has_police_region"
                    ],
                )
            ],
        ),
        sql_per_vendor(
            {"postgresql": [_function(PAIRS)], "sqlite": _sqlite_triggers(PAIRS)},
            {"postgresql": [_function(_BEFORE.PAIRS)], "sqlite": _sqlite_triggers(_BEFORE.PAIRS)},
        ),
    ]

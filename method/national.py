"""The national default checklist, from the agencies' process map for avhoppar programmes.
Municipalities copy and adapt it in the application; Socialstyrelsen's coordinators publish
new versions of it there. Version 1 is made after every migrate (post_migrate, as Django
makes its permissions), so a fresh or flushed database has it too."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, router, transaction
from django.utils import timezone

from method.models import ChecklistTemplate, ChecklistVersion, StepTemplate

KUNSKAPSGUIDEN = "Socialstyrelsens kunskapsguide | https://kunskapsguiden.se/"

# (phase, title, required, guidance)
STEPS = [
    (
        "reported",
        "Första kontakt med personen",
        False,
        "Bekräfta kontakten, vem som aktualiserade ärendet och hur personen nås säkert.",
    ),
    (
        "reported",
        "Information om verksamheten och sekretessen",
        False,
        "Berätta vad programmet kan erbjuda, vad det kräver och hur uppgifter skyddas.",
    ),
    (
        "initial_assessment",
        "Gemensamt möte med polisen",
        True,
        "Socialtjänst och polis träffar personen tillsammans och bedömer motivation, hot och "
        "behov.",
    ),
    (
        "initial_assessment",
        "Bedömning av motivation",
        True,
        "Vill personen lämna den kriminella miljön, och vad driver beslutet?",
    ),
    (
        "initial_assessment",
        "Samtycke till informationsutbyte",
        True,
        "Skriftligt samtycke som namnger varje myndighet. Utan samtycke kan den gemensamma "
        "metoden inte användas med den myndigheten.",
    ),
    (
        "initial_assessment",
        "Hotbedömning från polisen",
        True,
        "Polisen bedömer hotbilden och föreslår skyddsåtgärder; ange nästa omprövning.",
    ),
    (
        "investigation",
        "Behovsbedömning",
        True,
        "Boende, ekonomi, skulder, missbruk, hälsa, sysselsättning, nätverk och anhöriga.",
    ),
    (
        "investigation",
        "SIP när flera aktörer är inblandade",
        True,
        "Samordnad individuell plan (SoL och HSL) när flera huvudmän ger stöd. Kräver samtycke. "
        "Undanta med skäl om bara en aktör är inblandad.",
    ),
    (
        "investigation",
        "Kontroll av pågående rättsprocess",
        False,
        "Polisen öppnar inte eget avhopparärende för ett vittne i en pågående lagföring.",
    ),
    (
        "decision",
        "Beslut om insatser enligt delegationsordningen",
        True,
        "Beslutet fattas av den som har delegation för beslut om insatser.",
    ),
    (
        "decision",
        "Överenskommelse med villkor",
        True,
        "Överenskommelse mellan personen, socialtjänsten och vid behov polisen: villkor, "
        "startdatum, omprövning och underskrifter.",
    ),
    ("implementation", "Genomförandeplan", True, "Vem gör vad och när för varje insats."),
    (
        "implementation",
        "Regelbundna möten och drogtester enligt överenskommelsen",
        False,
        "Registrera möten och provresultat som daterade anteckningar i överenskommelsen.",
    ),
    (
        "follow_up",
        "Uppföljning av insatserna",
        True,
        "Har insatserna gett effekt? Följ upp mot målen och överenskommelsen.",
    ),
    (
        "closure",
        "Avslutande samtal",
        False,
        "Sammanfatta tiden i programmet och vart personen kan vända sig.",
    ),
    (
        "closure",
        "Polisen underrättad om avslutet",
        True,
        "Informera polisens avhopparsamordnare när ärendet avslutas.",
    ),
]


def ensure_national_default(using: str = DEFAULT_DB_ALIAS, **_kwargs: Any) -> None:
    # `migrate --database register` sends the signal too: the templates are not there.
    if router.allow_migrate_model(using, ChecklistTemplate):
        _make_national_default()


@transaction.atomic
def _make_national_default() -> None:
    if ChecklistTemplate.objects.filter(agency__isnull=True).exists():
        return
    template = ChecklistTemplate.objects.create(name="Nationell standardmall")
    version = ChecklistVersion.objects.create(
        template=template, number=1, published_at=timezone.now()
    )
    StepTemplate.objects.bulk_create(
        StepTemplate(
            version=version,
            phase=phase,
            position=(index + 1) * 10,
            title=title,
            required=required,
            guidance=guidance,
            links=KUNSKAPSGUIDEN,
        )
        for index, (phase, title, required, guidance) in enumerate(STEPS)
    )

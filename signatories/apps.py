from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class SignatoriesConfig(AppConfig):
    name = "signatories"
    verbose_name = "Signatories and signatures"

    def ready(self):
        from signatories.abuse import forget_blocked_domains
        from signatories.models import BlockedEmailDomain

        for signal in (post_save, post_delete):
            signal.connect(
                forget_blocked_domains,
                sender=BlockedEmailDomain,
                dispatch_uid=f"forget-blocked-domains-{signal is post_save}",
            )

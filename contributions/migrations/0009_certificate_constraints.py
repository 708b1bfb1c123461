import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("contributions", "0008_certificates_backfill"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='certificate',
            name='valid_from',
            field=models.DateField(verbose_name='valid from'),
        ),
        migrations.AlterField(
            model_name='historicalcertificate',
            name='valid_from',
            field=models.DateField(verbose_name='valid from'),
        ),
        migrations.AlterField(
            model_name='certificate',
            name='member',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='certificates', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='certificate',
            name='number',
            field=models.CharField(max_length=32, verbose_name='number'),
        ),
        migrations.AlterField(
            model_name='certificate',
            name='valid_until',
            field=models.DateField(help_text="The day it expires (the year's deadline).", verbose_name='valid until'),
        ),
        migrations.AddIndex(
            model_name='certificate',
            index=models.Index(fields=['member', 'year'], name='certificate_member_year'),
        ),
        migrations.AddConstraint(
            model_name='certificate',
            constraint=models.UniqueConstraint(condition=models.Q(('state', 'superseded'), _negated=True), fields=('member', 'year'), name='certificate_one_live_per_member_year', violation_error_message='This member already has a certificate for that year.'),
        ),
        migrations.AddConstraint(
            model_name='certificate',
            constraint=models.UniqueConstraint(condition=models.Q(('state', 'superseded'), _negated=True), fields=('number',), name='certificate_number_unique_live', violation_error_message='Another certificate already has this number.'),
        ),
        migrations.AddConstraint(
            model_name='certificate',
            constraint=models.CheckConstraint(condition=models.Q(('valid_until__gt', models.F('valid_from'))), name='certificate_valid_until_after_from', violation_error_message='A certificate must expire after the day it becomes valid.'),
        ),
        migrations.AddConstraint(
            model_name='certificate',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('state', 'revoked'), _negated=True), models.Q(('revoked_at__isnull', False), models.Q(('revoked_reason', ''), _negated=True)), _connector='OR'), name='certificate_revoked_has_reason', violation_error_message='A revoked certificate needs the date and the reason.'),
        ),
        migrations.AddConstraint(
            model_name='certificate',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('state', 'superseded'), _negated=True), ('superseded_at__isnull', False), _connector='OR'), name='certificate_superseded_has_date', violation_error_message='A replaced certificate needs the date it was replaced.'),
        ),
        migrations.AddField(
            model_name='historicalcertificate',
            name='history_user',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='historicalcertificate',
            name='member',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='historicalcertificate',
            name='program_year',
            field=models.ForeignKey(blank=True, db_constraint=False, help_text='The year whose review renewed the certificate (empty for other sources).', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='contributions.programyear'),
        ),
        migrations.AddField(
            model_name='historicalcertificate',
            name='revoked_by',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='historicalcertificate',
            name='superseded_by',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='contributions.certificate'),
        ),
    ]

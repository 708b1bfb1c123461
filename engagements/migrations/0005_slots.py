"""One row per slot of a limited opportunity (issue 16: sign-ups for one opportunity queued on its row lock).

PostgreSQL keeps the slots on every path that writes, by the triggers below:
- an opportunity's slots follow its capacity (created with it; raised: free ones added; lowered: free ones
  removed, refused below the held ones; unlimited: none, its sign-ups hold none);
- a sign-up entering a slot-holding state takes a free slot (one another transaction is taking or giving
  back is skipped; when every free slot is, it waits for them), and is refused when none is left;
- a sign-up leaving that state, or deleted, gives its slot back.
Existing opportunities get their slots, and their held sign-ups one each, at the end.
SQLite (the laptop's run) has the table but no triggers: one writer at a time, held sign-ups are counted.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CREATE = """
CREATE FUNCTION engagements_signup_slot() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    limited boolean;
    slot bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE engagements_slot SET taken = false WHERE id = OLD.slot_id;
        RETURN OLD;
    END IF;
    IF NEW.state IN ('confirmed', 'offered', 'scheduled', 'completed') THEN
        SELECT capacity IS NOT NULL INTO limited FROM engagements_opportunity WHERE id = NEW.opportunity_id;
    END IF;
    IF NOT coalesce(limited, false) THEN
        slot := NULL;  -- holds no slot, or the opportunity is unlimited
    ELSIF TG_OP = 'UPDATE' AND OLD.slot_id IS NOT NULL AND OLD.opportunity_id = NEW.opportunity_id THEN
        slot := OLD.slot_id;  -- keeps its slot, whatever the statement set
    ELSE
        SELECT id INTO slot FROM engagements_slot
         WHERE opportunity_id = NEW.opportunity_id AND NOT taken ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF slot IS NULL THEN
            -- Every free slot is being taken or given back by a transaction still open: wait for them (one
            -- that rolls back leaves its slot free; each statement here reads what committed meanwhile).
            SELECT id INTO slot FROM engagements_slot
             WHERE opportunity_id = NEW.opportunity_id AND NOT taken ORDER BY id LIMIT 1 FOR UPDATE;
        END IF;
        IF slot IS NULL THEN
            RAISE EXCEPTION 'no free slot: every slot of opportunity % is held', NEW.opportunity_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'signup_needs_free_slot';
        END IF;
        UPDATE engagements_slot SET taken = true WHERE id = slot;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.slot_id IS DISTINCT FROM slot THEN
        UPDATE engagements_slot SET taken = false WHERE id = OLD.slot_id;  -- given back
    END IF;
    NEW.slot_id := slot;
    RETURN NEW;
END $$;

CREATE FUNCTION engagements_opportunity_slots() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    have integer;
    removed integer;
BEGIN
    IF NEW.capacity IS NULL THEN
        IF TG_OP = 'UPDATE' THEN
            -- Unlimited now: its sign-ups give their slots back (the sign-up trigger), and the slots go.
            UPDATE engagements_signup SET slot_id = NULL WHERE opportunity_id = NEW.id AND slot_id IS NOT NULL;
            DELETE FROM engagements_slot WHERE opportunity_id = NEW.id;
        END IF;
        RETURN NULL;
    END IF;
    SELECT count(*) INTO have FROM engagements_slot WHERE opportunity_id = NEW.id;
    IF have < NEW.capacity THEN
        INSERT INTO engagements_slot (opportunity_id, taken)
        SELECT NEW.id, false FROM generate_series(1, NEW.capacity - have);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        -- Sign-ups holding no slot (the opportunity was unlimited) take theirs (the sign-up trigger).
        UPDATE engagements_signup SET slot_id = NULL
         WHERE opportunity_id = NEW.id AND slot_id IS NULL
           AND state IN ('confirmed', 'offered', 'scheduled', 'completed');
    END IF;
    IF have > NEW.capacity THEN
        DELETE FROM engagements_slot WHERE id IN (
            SELECT id FROM engagements_slot WHERE opportunity_id = NEW.id AND NOT taken
             ORDER BY id DESC LIMIT have - NEW.capacity FOR UPDATE);
        GET DIAGNOSTICS removed = ROW_COUNT;
        IF removed < have - NEW.capacity THEN
            RAISE EXCEPTION '% slots are held: the capacity of opportunity % cannot go below that',
                have - removed, NEW.id USING ERRCODE = 'check_violation', CONSTRAINT = 'opportunity_capacity_held';
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER engagements_signup_slot BEFORE INSERT OR DELETE OR UPDATE OF state, opportunity_id, slot_id
    ON engagements_signup FOR EACH ROW EXECUTE FUNCTION engagements_signup_slot();
CREATE TRIGGER engagements_opportunity_slots AFTER INSERT OR UPDATE OF capacity
    ON engagements_opportunity FOR EACH ROW EXECUTE FUNCTION engagements_opportunity_slots();

-- A sign-up's slot is one of its own opportunity's.
ALTER TABLE engagements_signup ADD CONSTRAINT signup_slot_same_opportunity
    FOREIGN KEY (slot_id, opportunity_id) REFERENCES engagements_slot (id, opportunity_id)
    DEFERRABLE INITIALLY DEFERRED;

-- The slots of the opportunities there are, and one for each sign-up holding one. Every service counted the
-- held slots under the opportunity's lock, so none holds more than its capacity; one written around them
-- stops the migration here, named, for staff to settle (raise its capacity or withdraw a sign-up).
DO $$
DECLARE
    overbooked text;
BEGIN
    SELECT string_agg(format('%s (%s held, capacity %s)', o.slug, held.n, o.capacity), ', ') INTO overbooked
      FROM engagements_opportunity o
      JOIN (SELECT opportunity_id, count(*) AS n FROM engagements_signup
             WHERE state IN ('confirmed', 'offered', 'scheduled', 'completed') GROUP BY opportunity_id) held
        ON held.opportunity_id = o.id
     WHERE o.capacity IS NOT NULL AND held.n > o.capacity;
    IF overbooked IS NOT NULL THEN
        RAISE EXCEPTION 'opportunities holding more sign-ups than their capacity: %', overbooked
            USING HINT = 'Raise the capacity or withdraw sign-ups in the admin, then migrate again.';
    END IF;
END $$;
UPDATE engagements_opportunity SET capacity = capacity WHERE capacity IS NOT NULL;
"""

DROP = """
ALTER TABLE engagements_signup DROP CONSTRAINT signup_slot_same_opportunity;
DROP TRIGGER engagements_opportunity_slots ON engagements_opportunity;
DROP TRIGGER engagements_signup_slot ON engagements_signup;
DROP FUNCTION engagements_opportunity_slots();
DROP FUNCTION engagements_signup_slot();
UPDATE engagements_signup SET slot_id = NULL WHERE slot_id IS NOT NULL;
DELETE FROM engagements_slot;
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # the % are PL/pgSQL's placeholders


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0004_constraint_messages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Slot",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("taken", models.BooleanField(default=False)),
                (
                    "opportunity",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="slots", to="engagements.opportunity"
                    ),
                ),
            ],
            options={
                "verbose_name": "slot",
                "verbose_name_plural": "slots",
            },
        ),
        migrations.AddField(
            model_name="signup",
            name="slot",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="signup",
                to="engagements.slot",
            ),
        ),
        migrations.AddConstraint(
            model_name="signup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("slot__isnull", True),
                    ("state__in", ["confirmed", "offered", "scheduled", "completed"]),
                    _connector="OR",
                ),
                name="signup_slot_only_when_holding",
                violation_error_message="Only a sign-up holding a slot can have one.",
            ),
        ),
        migrations.AddIndex(
            model_name="slot",
            index=models.Index(condition=models.Q(("taken", False)), fields=["opportunity", "id"], name="slot_free"),
        ),
        migrations.AddConstraint(
            model_name="slot",
            constraint=models.UniqueConstraint(
                fields=("id", "opportunity"),
                name="slot_of_opportunity",
                violation_error_message="This slot belongs to another opportunity.",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]

"""Contract tests: the emulator and the bot's traffic held to Microsoft's REST specs.

``make contract [EXAMPLES=DIR]`` runs them; DIR is any folder laid out like
azure-rest-api-specs (default ``../shared/azure/rest-specs``, see ``spec_location.py``).

* ``test_examples.py``: every ``x-ms-examples`` file is replayed against an emulator seeded with
  what it shows (``seeding.py``, ``family_seeders.py``), and once more against an empty tenant;
  answers are judged by ``replay.py`` with ``swagger.py`` and ``schema_rules.py``. Features the
  bot never uses are skipped with a reason each (``skips.py``); known emulator bugs are
  ``xfail(strict=True)`` entries there.
* ``test_traffic.py``: the bot's own flows run end to end and every request and answer is judged
  by ``traffic.py``; services with no swagger in the folder are counted as unchecked, their
  api-versions held to ``documented_versions.py``.
* ``test_checker.py``, ``test_seeding.py``, ``test_unseen_folder.py``: the checks themselves.
  Every check picks the swagger by path *and* api-version (``SpecFolder.match``): a folder that
  holds remediations 2021-10-01 and 2024-10-01 judges each request by its own version's schema.
* ``test_held_out_references.py``: examples written for the test name a subscription, management
  groups, a user-assigned identity and a parent resource seen nowhere else, and replay from a
  folder built with ``held_out.py``; a ``{nextLink}`` example is skipped with its reason, and a
  subscription named with a word (``subid``) is replayed under a GUID standing for it
  (``placeholders.py``: ARM itself refuses such an id).
* ``test_remediation_spec_rules.py``: the rules the 2024-10-01 swagger states only in words
  (``filters.resourceIds``: at most 100, not empty, not with ReEvaluateCompliance) hold in the emulator.
"""

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
"""

"""Azure Blob Storage, the part a run's lease needs: containers, block blobs, metadata and blob leases.

Served path-style on the emulator's HTTPS server, as Azurite serves it
(``https://127.0.0.1:PORT/devstoreaccount1/<container>/<blob>``).
"""

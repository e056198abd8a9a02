"""Local HTTPS ARM emulator: the tenant every test runs against (see DESIGN.md section 5).

from remediator.emulator import Emulator
emulator = Emulator.load("demo")            # or a path, or a dict; EstateError if malformed
with emulator.serve() as endpoint:          # HTTPS on 127.0.0.1, throwaway CA
    endpoint.url, endpoint.ca_path, endpoint.env()
    emulator.get(resource_id); emulator.provider_state(sub, "Microsoft.Compute")
"""

from remediator.emulator.estate_schema import EstateError as EstateError
from remediator.emulator.service import Emulator as Emulator
from remediator.emulator.service import Endpoint as Endpoint

__all__ = ["Emulator", "Endpoint", "EstateError"]

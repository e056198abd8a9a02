"""The only code that talks to Azure: session, client factory, inventory, actions, retry.

Action modules are imported here by an explicit list, which registers their actions.
"""

import logging

from . import extension_actions as extension_actions
from . import maintenance_actions as maintenance_actions
from . import policy_actions as policy_actions
from . import provider_actions as provider_actions
from .actions import Action as Action
from .actions import all_actions as all_actions
from .actions import get_action as get_action
from .actions import register_action as register_action
from .arm_errors import arm_errors as arm_errors
from .arm_errors import read_errors as read_errors
from .arm_resources import delete_resource as delete_resource
from .arm_resources import get_json as get_json
from .arm_resources import patch_json as patch_json
from .arm_resources import put_json as put_json
from .arm_resources import wait_for as wait_for
from .backend import AzureBackend as AzureBackend
from .clients import ArmClients as ArmClients
from .inventory import read_estate as read_estate
from .retry import OPERATION_IN_PROGRESS as OPERATION_IN_PROGRESS
from .retry import OPERATION_RUNNING as OPERATION_RUNNING
from .retry import PRINCIPAL_NOT_FOUND as PRINCIPAL_NOT_FOUND
from .retry import PROVIDER_REGISTERING as PROVIDER_REGISTERING
from .retry import REMEDIATION_RUNNING as REMEDIATION_RUNNING
from .retry import PollTimeout as PollTimeout
from .retry import call_with_retry as call_with_retry
from .retry import poll_until as poll_until
from .retry import retrying_on as retrying_on
from .sdk_values import enum_text as enum_text
from .sdk_values import raw_body as raw_body
from .session import ArmSession as ArmSession
from .session import ArmTarget as ArmTarget
from .session import default_credential as default_credential
from .session import endpoint_credential as endpoint_credential
from .settings import ApplySettings as ApplySettings

# The SDK logs each credential failure as a WARNING (DefaultAzureCredential: a page-long chain
# report). With no handler configured, Python's last-resort handler would print it to stderr
# next to the one-line AzureAccessError that already says what went wrong. A NullHandler keeps
# the terminal clean; a handler the CLI installs on the root logger (e.g. for --verbose) still
# receives every record.
logging.getLogger("azure").addHandler(logging.NullHandler())

"""The only code that talks to Azure: session, client factory, inventory, actions, retry.

Action modules are imported here by an explicit list, which registers their actions.
"""

from . import maintenance_actions as maintenance_actions
from . import policy_actions as policy_actions
from . import provider_actions as provider_actions
from .actions import Action as Action
from .actions import all_actions as all_actions
from .actions import get_action as get_action
from .actions import register_action as register_action
from .arm_errors import arm_errors as arm_errors
from .clients import ArmClients as ArmClients
from .session import ArmSession as ArmSession
from .session import ArmTarget as ArmTarget
from .session import default_credential as default_credential
from .session import endpoint_credential as endpoint_credential
from .settings import ApplySettings as ApplySettings

"""aum-remediator: finds and fixes the Azure Update Manager failures Microsoft documents.

The public API below is what playbooks (ours and third parties') may import; everything else is
internal. Only ``remediator.azure`` talks to Azure.
"""

from .errors import ArmOperationError as ArmOperationError
from .errors import ConfigError as ConfigError
from .errors import RemediatorError as RemediatorError
from .errors import UsageError as UsageError
from .estate import Estate as Estate
from .estate import PolicyState as PolicyState
from .estate import Resource as Resource
from .estate import Subscription as Subscription
from .estate import parent_id as parent_id
from .estate import parse_resource_id as parse_resource_id
from .model import Change as Change
from .model import Finding as Finding
from .model import Outcome as Outcome
from .model import Plan as Plan
from .model import Scope as Scope
from .model import roles_of as roles_of
from .playbook import Context as Context
from .playbook import Needs as Needs
from .playbook import Playbook as Playbook
from .playbook import register as register
from .version import VERSION

__version__ = VERSION

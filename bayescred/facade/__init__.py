"""The objects users meet: :class:`CredentialModel` (configure, build, fit) and
:class:`CredentialFit` (everything computed from a fit)."""

from bayescred.facade.credential_fit import CredentialFit, load_fit
from bayescred.facade.credential_model import CredentialModel

__all__ = ["CredentialFit", "CredentialModel", "load_fit"]

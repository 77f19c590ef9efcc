"""reminderd: a calendar and reminder daemon for offices that run on written plans.

The packages, in import order (docs/architecture.md): core <- plans <- config/workspace
<- feeds <- mail <- sendpass <- server <- cli; store beside them.
"""

__version__ = "0.1.0"

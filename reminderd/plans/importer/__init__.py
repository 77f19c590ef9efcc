"""``reminderd import``: a draft plan from a plan document (.docx, .pdf, .txt, .doc/.odt).

readers (file -> lines and tables) -> lines (page furniture, broken lines) -> tables and
prose (tasks as written) -> build (agencies matched by :mod:`.agencies`, times read by the
project's grammar, problems) -> draft (plans.yaml text with comments, or JSON).
"""

from reminderd.plans.importer.build import Imported, import_document
from reminderd.plans.importer.draft import to_json, to_yaml
from reminderd.plans.importer.readers import ImportProblem

__all__ = ["ImportProblem", "Imported", "import_document", "to_json", "to_yaml"]

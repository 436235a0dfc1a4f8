-- Rows that failed their contract at the door (SPEC 4), one row per failed row and rule.

select
    register,
    _partition,
    _file,
    _line,
    field,
    rule,
    reason,
    record
from {{ source('ingestion', 'quarantine') }}

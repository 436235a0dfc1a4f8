-- One row per landing file loaded, with its row accounting (SPEC 4).

select
    register,
    _partition,
    _file,
    sha256,
    rows_read,
    rows_loaded,
    rows_quarantined,
    loaded_at
from {{ source('ingestion', 'file_loads') }}

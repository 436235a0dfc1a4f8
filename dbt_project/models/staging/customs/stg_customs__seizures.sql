-- The seizure lines of each violation as of the release cut-off. Seizures are keyed
-- (violation_id, line_no), belong to their violation and carry no write time: a monthly
-- export that contains a violation brings its complete list of lines. So the lines are those
-- delivered in the latest monthly file (_partition) that contains a version row of the
-- violation written at or before var as_of (re-deliveries included). A line delivered twice
-- in that partition is kept once (first delivery).

with cut_off_violation_rows as (

    select violation_id, _partition
    from {{ source('customs', 'customs_violation_versions') }}
    where {{ as_of_condition('written_at') }}

),

latest_delivery_of_violation as (

    select
        violation_id,
        max(_partition) as _partition
    from cut_off_violation_rows
    group by violation_id

),

seizure_rows as (

    select * from {{ source('customs', 'customs_seizures') }}

),

lines_of_latest_delivery as (

    select
        seizure_rows.*,
        row_number() over (
            partition by seizure_rows.violation_id, seizure_rows.line_no
            order by seizure_rows._file, seizure_rows._line
        ) as delivery_rank
    from seizure_rows
    inner join latest_delivery_of_violation
        on seizure_rows.violation_id = latest_delivery_of_violation.violation_id
        and seizure_rows._partition = latest_delivery_of_violation._partition

)

select
    violation_id,
    line_no,
    cn_code,
    goods_category,
    quantity,
    unit,
    value_eur,
    _partition,
    _file,
    _line
from lines_of_latest_delivery
where delivery_rank = 1

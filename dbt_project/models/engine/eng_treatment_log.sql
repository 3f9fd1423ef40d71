{#- What the outlier treatment did per indicator and year: statistics before and after, method.
    eng_treatment computes it in the same pass as the values (the treatment runs once). -#}
select year, icode, n, skew_before, kurt_before, skew_after, kurt_after, winsorised_points,
       method, low_or_high
from {{ ref('eng_treatment') }}
where row_kind = 'log'

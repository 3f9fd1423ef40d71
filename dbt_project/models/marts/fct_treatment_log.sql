{#- What the outlier treatment did per indicator and year, kept for every year built. -#}
select * from {{ ref('eng_treatment_log') }}

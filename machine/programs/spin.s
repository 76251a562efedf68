; spin.s -- never ends (use the monitor: stop, cont, info cpus, cpu-unplug N, quit).
; Each vCPU counts in r1 and in counters[cpu]; every 200000 iterations it halts until the next timer
; interrupt, so `info cpus` shows vCPUs both running and halted.

start:
    cpuid r13
    li    r1, 0
loop:
    add   r1, r1, 1
    st    r1, [r13 + counters]
    rem   r2, r1, 200000
    bnez  r2, loop
    hlt
    jmp   loop

counters: .zero 64

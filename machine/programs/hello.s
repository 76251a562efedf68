; hello.s -- every vCPU prints one line on the serial console, then powers off.
; The ticket lock (xadd + a spin on `serving`) keeps the lines of different vCPUs whole.

start:
    cpuid r13
    ncpus r12
    li    r2, 1
    xadd  r3, [ticket], r2
wait_turn:
    ld    r4, [serving]
    bne   r3, r4, wait_turn
    li    r4, hello
    call  puts
    out   SERIAL_NUM, r13
    li    r4, of
    call  puts
    out   SERIAL_NUM, r12
    li    r2, '\n'
    out   SERIAL, r2
    add   r3, r3, 1
    st    r3, [serving]
    end

puts:
    ld    r2, [r4]
    beqz  r2, puts_done
    out   SERIAL, r2
    add   r4, r4, 1
    jmp   puts
puts_done:
    ret

hello:   .string "Hello from CPU "
of:      .string " of "
ticket:  .word 0
serving: .word 0

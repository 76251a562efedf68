; mandelbrot.s -- the default guest.
;
; Every vCPU claims rows of the picture with an atomic fetch-and-add (xadd, which the machine runs inside
; an exclusive section, like TCG's EXCP_ATOMIC), renders each row into the framebuffer in Q12 fixed
; point, then reports on the serial console and powers off with `end`.
;
; A framebuffer word is a palette index: 0 (black) inside the set, else 1 + 4 * iterations.

.equ MAXIT, 64
.equ ONE, 4096                  ; 1.0 in Q12
.equ ESCAPE, 4 * ONE            ; escape when |z|^2 > 4

start:
    hlt                         ; wait for the first timer interrupt: the kick wakes a halted vCPU
    cpuid r13
    li    r12, 0                ; rows rendered by this vCPU
    li    r1, 14336             ; 3.5: the real axis spans -2.5 .. 1.0
    li    r2, FB_WIDTH
    div   r10, r1, r2           ; dx
    li    r1, 10240             ; 2.5: the imaginary axis spans -1.25 .. 1.25
    li    r2, FB_HEIGHT
    div   r11, r1, r2           ; dy

next_row:
    li    r2, 1
    xadd  r14, [row_counter], r2
    li    r4, FB_HEIGHT
    bge   r14, r4, finished
    mul   r5, r14, r11
    add   r5, r5, -5120         ; ci = -1.25 + row * dy
    li    r4, FB_WIDTH
    mul   r6, r14, r4
    add   r6, r6, FB_BASE       ; r6 = &fb[row][0]
    li    r7, 0                 ; x
pixel:
    mul   r8, r7, r10
    add   r8, r8, -10240        ; cr = -2.5 + x * dx
    li    r0, 0                 ; zr
    li    r1, 0                 ; zi
    li    r9, 0                 ; iterations
iterate:
    mul   r2, r0, r0
    sar   r2, r2, 12            ; zr^2
    mul   r3, r1, r1
    sar   r3, r3, 12            ; zi^2
    add   r4, r2, r3
    li    r15, ESCAPE
    bgt   r4, r15, escaped
    mul   r1, r0, r1
    sar   r1, r1, 11            ; 2 * zr * zi
    add   r1, r1, r5            ; zi = 2 zr zi + ci
    sub   r0, r2, r3
    add   r0, r0, r8            ; zr = zr^2 - zi^2 + cr
    add   r9, r9, 1
    li    r15, MAXIT
    blt   r9, r15, iterate
    li    r9, 0                 ; never escaped: inside the set, black
    jmp   plot
escaped:
    shl   r9, r9, 2
    add   r9, r9, 1             ; colour 1 + 4 * iterations
plot:
    st    r9, [r6]
    add   r6, r6, 1
    add   r7, r7, 1
    li    r15, FB_WIDTH
    blt   r7, r15, pixel
    add   r12, r12, 1
    jmp   next_row

finished:
    ; "CPU n: k rows", under a ticket lock so that lines from different vCPUs do not interleave.
    li    r2, 1
    xadd  r3, [ticket], r2      ; take a ticket
wait_turn:
    ld    r4, [serving]
    bne   r3, r4, wait_turn
    li    r4, msg_cpu
    call  puts
    out   SERIAL_NUM, r13
    li    r4, msg_colon
    call  puts
    out   SERIAL_NUM, r12
    li    r4, msg_rows
    call  puts
    add   r3, r3, 1
    st    r3, [serving]         ; release: only the holder writes `serving`
    end

; puts: writes the zero-terminated string at r4 to the serial console (clobbers r2, r4).
puts:
    ld    r2, [r4]
    beqz  r2, puts_done
    out   SERIAL, r2
    add   r4, r4, 1
    jmp   puts
puts_done:
    ret

msg_cpu:     .string "CPU "
msg_colon:   .string ": "
msg_rows:    .string " rows\n"
row_counter: .word 0
ticket:      .word 0
serving:     .word 0

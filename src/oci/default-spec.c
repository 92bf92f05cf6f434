/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <unistd.h>

#include "basic/strbuf.h"
#include "oci/default-spec.h"

static const char spec_head[] =
        "{\n"
        "  \"ociVersion\": \"1.2.0\",\n"
        "  \"process\": {\n"
        "    \"terminal\": true,\n"
        "    \"user\": {\"uid\": 0, \"gid\": 0},\n"
        "    \"args\": [\"sh\"],\n"
        "    \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", "
        "\"TERM=xterm\"],\n"
        "    \"cwd\": \"/\",\n"
        "    \"capabilities\": {\n"
        "      \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
        "      \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
        "      \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
        "    },\n"
        "    \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
        "    \"noNewPrivileges\": true\n"
        "  },\n"
        "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
        "  \"hostname\": \"berth\",\n"
        "  \"mounts\": [\n"
        "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
        "    {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
        "     \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
        "    {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
        "     \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"%s]},\n"
        "    {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
        "     \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
        "    {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
        "     \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
        "    {\"destination\": \"/sys\", \"type\": \"%s\", \"source\": \"%s\",\n"
        "     \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"%s]},\n"
        "    {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
        "     \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}\n"
        "  ],\n"
        "  \"linux\": {\n";

static const char spec_tail[] =
        "    \"namespaces\": [\n"
        "      {\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"},\n"
        "      {\"type\": \"mount\"}, {\"type\": \"cgroup\"}%s\n"
        "    ],\n"
        "    \"maskedPaths\": [\n"
        "      \"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", \"/proc/latency_stats\",\n"
        "      \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", \"/sys/firmware\",\n"
        "      \"/proc/scsi\", \"/sys/devices/virtual/powercap\"\n"
        "    ],\n"
        "    \"readonlyPaths\": [\n"
        "      \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"\n"
        "    ]\n"
        "  }\n"
        "}\n";

char *oci_default_spec_render(bool rootless)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        strbuf_printf(&b, spec_head, rootless ? "" : ", \"gid=5\"", rootless ? "none" : "sysfs",
                      rootless ? "/sys" : "sysfs", rootless ? ", \"rbind\"" : "");
        if (rootless)
                strbuf_printf(&b,
                              "    \"uidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}],\n"
                              "    \"gidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}],\n",
                              (unsigned)geteuid(), (unsigned)getegid());
        else
                strbuf_puts(
                        &b,
                        "    \"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},\n");
        strbuf_printf(&b, spec_tail, rootless ? ", {\"type\": \"user\"}" : "");
        return strbuf_steal(&b);
}

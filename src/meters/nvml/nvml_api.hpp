// The small part of NVIDIA's NVML C API that epochwatt uses, declared from NVIDIA's public NVML
// API reference (https://docs.nvidia.com/deploy/nvml-api/) and written here so that no CUDA
// toolkit or driver is needed at build time: libnvidia-ml.so.1 is opened with dlopen at run time
// and each function below is looked up by name with dlsym.
//
// Only types and signatures are declared; the layouts match the reference (nvmlProcessInfo_t is
// the v2/v3 layout used by the *_v3 process queries). The fake library under tests/fake_nvml
// implements exactly these symbols.
#pragma once

namespace epochwatt::meters::nvml {

// nvmlReturn_t is a C enum in NVML's header; its ABI is an int.
using nvmlReturn_t = int;
inline constexpr nvmlReturn_t NVML_SUCCESS = 0;
inline constexpr nvmlReturn_t NVML_ERROR_UNINITIALIZED = 1;
inline constexpr nvmlReturn_t NVML_ERROR_INVALID_ARGUMENT = 2;
inline constexpr nvmlReturn_t NVML_ERROR_NOT_SUPPORTED = 3;
inline constexpr nvmlReturn_t NVML_ERROR_NO_PERMISSION = 4;
inline constexpr nvmlReturn_t NVML_ERROR_NOT_FOUND = 6;
inline constexpr nvmlReturn_t NVML_ERROR_INSUFFICIENT_SIZE = 7;
inline constexpr nvmlReturn_t NVML_ERROR_DRIVER_NOT_LOADED = 9;
inline constexpr nvmlReturn_t NVML_ERROR_TIMEOUT = 10;
inline constexpr nvmlReturn_t NVML_ERROR_LIBRARY_NOT_FOUND = 12;
inline constexpr nvmlReturn_t NVML_ERROR_FUNCTION_NOT_FOUND = 13;
inline constexpr nvmlReturn_t NVML_ERROR_GPU_IS_LOST = 15;
inline constexpr nvmlReturn_t NVML_ERROR_RESET_REQUIRED = 16;
inline constexpr nvmlReturn_t NVML_ERROR_UNKNOWN = 999;

// Buffer sizes the reference recommends (NVML_DEVICE_NAME_V2_BUFFER_SIZE,
// NVML_DEVICE_UUID_V2_BUFFER_SIZE, NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE).
inline constexpr unsigned int kNameBufferSize = 96;
inline constexpr unsigned int kUuidBufferSize = 96;
inline constexpr unsigned int kDriverVersionBufferSize = 80;

}  // namespace epochwatt::meters::nvml

extern "C" {
// Opaque device handle, as in nvml.h (a pointer to an undefined struct).
typedef struct nvmlDevice_st* nvmlDevice_t;

// nvmlProcessInfo_t as filled by nvmlDevice{Compute,Graphics}RunningProcesses_v3.
typedef struct nvmlProcessInfo_st {
  unsigned int pid;
  unsigned long long usedGpuMemory;  // bytes
  unsigned int gpuInstanceId;        // 0xFFFFFFFF when not a MIG device
  unsigned int computeInstanceId;    // 0xFFFFFFFF when not a MIG device
} nvmlProcessInfo_t;
}

namespace epochwatt::meters::nvml {

using nvmlInit_v2_fn = nvmlReturn_t (*)();
using nvmlShutdown_fn = nvmlReturn_t (*)();
using nvmlErrorString_fn = const char* (*)(nvmlReturn_t result);
using nvmlSystemGetDriverVersion_fn = nvmlReturn_t (*)(char* version, unsigned int length);
using nvmlDeviceGetCount_v2_fn = nvmlReturn_t (*)(unsigned int* deviceCount);
using nvmlDeviceGetHandleByIndex_v2_fn = nvmlReturn_t (*)(unsigned int index, nvmlDevice_t* device);
using nvmlDeviceGetHandleByUUID_fn = nvmlReturn_t (*)(const char* uuid, nvmlDevice_t* device);
using nvmlDeviceGetName_fn = nvmlReturn_t (*)(nvmlDevice_t device, char* name, unsigned int length);
using nvmlDeviceGetUUID_fn = nvmlReturn_t (*)(nvmlDevice_t device, char* uuid, unsigned int length);
using nvmlDeviceGetIndex_fn = nvmlReturn_t (*)(nvmlDevice_t device, unsigned int* index);
// Millijoules since the driver was last loaded (Volta and newer).
using nvmlDeviceGetTotalEnergyConsumption_fn = nvmlReturn_t (*)(nvmlDevice_t device,
                                                                unsigned long long* energy);
// Milliwatts.
using nvmlDeviceGetPowerUsage_fn = nvmlReturn_t (*)(nvmlDevice_t device, unsigned int* power);
// Two-call protocol: with *infoCount too small, NVML_ERROR_INSUFFICIENT_SIZE and *infoCount set
// to the number needed.
using nvmlDeviceGetComputeRunningProcesses_v3_fn =
    nvmlReturn_t (*)(nvmlDevice_t device, unsigned int* infoCount, nvmlProcessInfo_t* infos);
using nvmlDeviceGetGraphicsRunningProcesses_v3_fn =
    nvmlReturn_t (*)(nvmlDevice_t device, unsigned int* infoCount, nvmlProcessInfo_t* infos);
using nvmlDeviceIsMigDeviceHandle_fn = nvmlReturn_t (*)(nvmlDevice_t device, unsigned int* isMigDevice);
using nvmlDeviceGetDeviceHandleFromMigDeviceHandle_fn = nvmlReturn_t (*)(nvmlDevice_t migDevice,
                                                                         nvmlDevice_t* device);

}  // namespace epochwatt::meters::nvml
